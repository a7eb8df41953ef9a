"""The keystore file itself: its format, how it is unlocked, and how it is written.

Layout (JSON, mode 0600)::

    {"format": "voucher-chain-keystore", "version": 1,
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<hex>"}
            | {"name": "master-key"},
     "verifier": {"nonce": "<hex>", "ciphertext": "<hex>"},
     "keys": [{"address", "org_id", "label", "created", "status", "revoked", "replaced_by",
               "rotated_from", "nonce", "ciphertext"}, ...]}

The key-encryption key (KEK) is derived from a passphrase with scrypt (memory-hard; a random salt
per file) or is a 32-byte master key taken as is (e.g. from ``VOUCHER_CHAIN_KEYSTORE_KEY``, hex).
Each private key is sealed with AES-256-GCM under the KEK, with a fresh 96-bit nonce and the
entry's address and organisation as associated data (:func:`entry_aad`), so an entry cannot be
moved to another address or organisation without failing authentication. The verifier is a
constant sealed the same way: a wrong passphrase fails its GCM tag and :func:`unlock` raises
:class:`KeystoreLocked` before any key is touched. The file is only ever replaced whole
(:func:`write_document`: temp file, fsync, rename). What is *in* the keys list, and the locking
around changes, is :mod:`voucher_chain.signer.keystore`'s.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from voucher_chain.files import write_atomically
from voucher_chain.signer.errors import KeystoreCorrupt, KeystoreError, KeystoreLocked

__all__ = [
    "MASTER_KEY_ENV",
    "ScryptParams",
    "entry_aad",
    "generate_master_key",
    "master_key_from_env",
    "new_document",
    "read_document",
    "unlock",
    "write_document",
]

FORMAT = "voucher-chain-keystore"
VERSION = 1
#: The environment variable holding the 32-byte master key as hex (64 digits, ``0x`` optional).
MASTER_KEY_ENV = "VOUCHER_CHAIN_KEYSTORE_KEY"

_VERIFIER_AAD = b"voucher-chain-keystore/v1/verifier"
_VERIFIER_PLAINTEXT = b"voucher-chain-keystore verifier"
_MASTER_KEY = "master-key"
_SCRYPT = "scrypt"


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters. The default (n=2**15, r=8, p=1) needs 32 MiB and ~0.1 s per unlock;
    tests pass tiny ones."""

    n: int = 2**15
    r: int = 8
    p: int = 1


def generate_master_key() -> str:
    """A fresh random master key as 64 hex digits, for ``VOUCHER_CHAIN_KEYSTORE_KEY``."""
    return secrets.token_hex(32)


def master_key_from_env(var: str = MASTER_KEY_ENV) -> bytes:
    """The 32-byte master key from environment variable ``var`` (hex); :class:`KeystoreLocked` if
    it is missing or malformed (the message never echoes the value)."""
    raw = os.environ.get(var, "").strip()
    if not raw:
        raise KeystoreLocked(
            f"no passphrase given and ${var} is not set: cannot unlock the keystore", path=""
        )
    raw = raw.removeprefix("0x")
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeystoreLocked(f"${var} must hold 32 bytes as 64 hex digits", path="")
    return key


def entry_aad(address: str, org_id: int | None) -> bytes:
    """The associated data sealing a key to its address and organisation."""
    return f"voucher-chain-keystore/v1/key/{address}/{org_id}".encode()


def new_document(
    target: Path,
    *,
    passphrase: str | None,
    master_key: bytes | None,
    scrypt: ScryptParams | None,
) -> tuple[bytes, dict[str, Any]]:
    """The KEK and the document of a new, empty keystore, unlocked by ``passphrase``
    (scrypt) or ``master_key`` (32 bytes); with neither, by the master key in
    ``$VOUCHER_CHAIN_KEYSTORE_KEY``."""
    params = scrypt or ScryptParams()
    if passphrase is not None:
        if not passphrase:
            raise KeystoreLocked("an empty passphrase is not allowed", path=str(target))
        kdf: dict[str, Any] = {
            "name": _SCRYPT,
            "n": params.n,
            "r": params.r,
            "p": params.p,
            "salt": os.urandom(16).hex(),
        }
        kek = _scrypt(passphrase, kdf, target)
    else:
        kek = _check_master_key(master_key, target)
        kdf = {"name": _MASTER_KEY}
    nonce = os.urandom(12)
    verifier = AESGCM(kek).encrypt(nonce, _VERIFIER_PLAINTEXT, _VERIFIER_AAD)
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": kdf,
        "verifier": {"nonce": nonce.hex(), "ciphertext": verifier.hex()},
        "keys": [],
    }
    return kek, document


def unlock(
    target: Path,
    document: Mapping[str, Any],
    *,
    passphrase: str | None,
    master_key: bytes | None,
) -> bytes:
    """The KEK of ``document`` (read from ``target``), checked against its verifier:
    :class:`KeystoreLocked` if the passphrase or master key is wrong or of the wrong kind,
    :class:`KeystoreCorrupt` if the document is malformed."""
    kdf = document["kdf"]
    if kdf.get("name") == _SCRYPT:
        if passphrase is None:
            raise KeystoreLocked(
                f"{target} is locked by a passphrase; none was given", path=str(target)
            )
        kek = _scrypt(passphrase, kdf, target)
    elif kdf.get("name") == _MASTER_KEY:
        if passphrase is not None:
            raise KeystoreLocked(
                f"{target} is locked by a master key, not a passphrase", path=str(target)
            )
        kek = _check_master_key(master_key, target)
    else:
        raise KeystoreCorrupt(f"{target}: unknown kdf {kdf.get('name')!r}", path=str(target))
    try:
        verifier = document["verifier"]
        AESGCM(kek).decrypt(
            bytes.fromhex(verifier["nonce"]),
            bytes.fromhex(verifier["ciphertext"]),
            _VERIFIER_AAD,
        )
    except InvalidTag:
        what = "passphrase" if kdf["name"] == _SCRYPT else "master key"
        raise KeystoreLocked(
            f"wrong {what} for keystore {target}: it does not unlock the file",
            path=str(target),
        ) from None
    except (KeyError, TypeError, ValueError):
        raise KeystoreCorrupt(f"{target}: malformed verifier", path=str(target)) from None
    return kek


def read_document(path: Path) -> dict[str, Any]:
    """The keystore document at ``path``, its header checked (not its keys)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeystoreError(f"no keystore at {path}", path=str(path)) from None
    except (OSError, ValueError) as exc:
        raise KeystoreCorrupt(
            f"{path} is not a readable keystore: {type(exc).__name__}", path=str(path)
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise KeystoreCorrupt(f"{path} is not a VoucherChain keystore", path=str(path))
    if document.get("version") != VERSION:
        raise KeystoreCorrupt(
            f"{path} has keystore version {document.get('version')!r}; this code reads {VERSION}",
            path=str(path),
        )
    for field in ("kdf", "verifier", "keys"):
        if field not in document:
            raise KeystoreCorrupt(f"{path} has no {field!r}", path=str(path))
    return document


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    """Atomically replaces the file, mode 0600 (:func:`voucher_chain.files.write_atomically`)."""
    write_atomically(path, json.dumps(document, indent=1) + "\n", mode=0o600)


def _scrypt(passphrase: str, kdf: Mapping[str, Any], path: Path) -> bytes:
    try:
        return Scrypt(
            salt=bytes.fromhex(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]
        ).derive(passphrase.encode("utf-8"))
    except (KeyError, TypeError, ValueError):
        raise KeystoreCorrupt(f"{path}: malformed scrypt parameters", path=str(path)) from None


def _check_master_key(master_key: bytes | None, path: Path) -> bytes:
    if master_key is None:
        try:
            return master_key_from_env()
        except KeystoreLocked as exc:
            raise KeystoreLocked(str(exc), path=str(path)) from None
    if len(master_key) != 32:
        raise KeystoreLocked(f"a master key has 32 bytes, not {len(master_key)}", path=str(path))
    return bytes(master_key)

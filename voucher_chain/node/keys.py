"""The authority key: encrypted at rest (scrypt + AES-GCM), or an operator's Ethereum keystore.

The authority key seals every block and is the governor account created at genesis. In dev
mode the node generates it on first start and keeps it in ``DATA_DIR/authority.key``, encrypted
with the passphrase in ``VOUCHER_CHAIN_DEV_PASSPHRASE`` or, failing that, a fixed dev-only
default — which :func:`passphrase_from_env` refuses outside dev mode.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_account import Account
from eth_keys.datatypes import PrivateKey

from voucher_chain.files import write_atomically
from voucher_chain.node.errors import NodeConfigError

__all__ = [
    "DEV_PASSPHRASE",
    "KEY_PASSPHRASE_ENV",
    "PASSPHRASE_ENV",
    "decrypt_key",
    "encrypt_key",
    "load_key_file",
    "operator_key",
    "passphrase_from_env",
]

PASSPHRASE_ENV = "VOUCHER_CHAIN_DEV_PASSPHRASE"
#: The dev-only default passphrase. Never accepted outside dev mode.
DEV_PASSPHRASE = "voucher-chain-dev-only"

_FORMAT = "voucher-chain-key/1"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**15, 8, 1


def passphrase_from_env(*, dev: bool) -> str:
    """The passphrase from ``VOUCHER_CHAIN_DEV_PASSPHRASE``; the dev default only in dev mode."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not dev:
        raise NodeConfigError(
            f"set {PASSPHRASE_ENV}: the built-in dev passphrase is refused outside dev mode"
        )
    return DEV_PASSPHRASE


def _kdf(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def encrypt_key(private_key: bytes, passphrase: str) -> str:
    """``private_key`` as a JSON document encrypted under ``passphrase``."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = _kdf(passphrase, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    address = PrivateKey(private_key).public_key.to_checksum_address()
    ciphertext = AESGCM(key).encrypt(nonce, private_key, address.encode())
    return json.dumps(
        {
            "format": _FORMAT,
            "address": address,
            "kdf": {"name": "scrypt", "n": _SCRYPT_N, "r": _SCRYPT_R, "p": _SCRYPT_P},
            "salt": salt.hex(),
            "nonce": nonce.hex(),
            "ciphertext": ciphertext.hex(),
        },
        indent=2,
    )


def decrypt_key(document: str, passphrase: str) -> bytes:
    """The private key in a document made by :func:`encrypt_key`, or in an Ethereum V3
    keystore (``geth account new``, ``Account.encrypt``)."""
    doc = json.loads(document)
    if doc.get("format") != _FORMAT:
        try:
            return bytes(Account.decrypt(doc, passphrase))
        except ValueError as exc:
            raise NodeConfigError(f"cannot decrypt the keystore: {exc}") from None
    kdf = doc["kdf"]
    key = _kdf(passphrase, bytes.fromhex(doc["salt"]), kdf["n"], kdf["r"], kdf["p"])
    try:
        return AESGCM(key).decrypt(
            bytes.fromhex(doc["nonce"]), bytes.fromhex(doc["ciphertext"]), doc["address"].encode()
        )
    except Exception:
        raise NodeConfigError(
            "wrong passphrase for the authority key (or the file is corrupt)"
        ) from None


def load_key_file(path: Path, passphrase: str, *, create: bool) -> bytes:
    """The key in ``path``; generated and written there first if ``create`` and it is absent."""
    if path.exists():
        return decrypt_key(path.read_text(), passphrase)
    if not create:
        raise NodeConfigError(f"no authority key at {path}")
    private_key = secrets.token_bytes(32)
    write_atomically(path, encrypt_key(private_key, passphrase), mode=0o600)
    return private_key


#: Passphrase of an operator-supplied key file (``voucher-chain node --key-file``).
KEY_PASSPHRASE_ENV = "VOUCHER_CHAIN_KEY_PASSPHRASE"


def operator_key(path: Path) -> bytes:
    """The operator's key from ``path`` (this module's format or an Ethereum V3 keystore),
    decrypted with the passphrase in ``VOUCHER_CHAIN_KEY_PASSPHRASE``."""
    passphrase = os.environ.get(KEY_PASSPHRASE_ENV)
    if not passphrase:
        raise NodeConfigError(f"set {KEY_PASSPHRASE_ENV} to decrypt {path}")
    return load_key_file(path, passphrase, create=False)

"""A keystore: one or more keys per organisation, encrypted at rest in one file.

The file's format, its unlocking and its atomic writes are :mod:`voucher_chain.signer.keyfile`'s;
this module is what is done with the keys. Private keys are decrypted on demand
(:meth:`Keystore.secret`) and never cached; revoking a key removes its ciphertext from the file.
Every change is made under a lock (a thread lock plus an ``flock`` on ``<file>.lock``, so other
processes and other :class:`Keystore` objects on the same file are serialised), re-reads the
file first, and replaces it atomically.
"""

from __future__ import annotations

import builtins
import fcntl
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from hexbytes import HexBytes

from voucher_chain.signer.errors import (
    DuplicateKey,
    KeyRevoked,
    KeystoreCorrupt,
    KeystoreError,
    KeystoreLocked,
    UnknownAccount,
)
from voucher_chain.signer.keyfile import (
    ScryptParams,
    entry_aad,
    new_document,
    read_document,
    unlock,
    write_document,
)

__all__ = ["KeyInfo", "KeyStatus", "Keystore", "SecretKey"]

log = logging.getLogger(__name__)


class KeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True)
class KeyInfo:
    """What the keystore knows about a key, without the key."""

    address: ChecksumAddress
    org_id: int | None
    label: str
    created: str
    status: KeyStatus
    revoked: str | None = None
    replaced_by: ChecksumAddress | None = None
    rotated_from: ChecksumAddress | None = None

    @property
    def active(self) -> bool:
        return self.status is KeyStatus.ACTIVE


class SecretKey:
    """A decrypted private key. Its repr and str show only the address; it cannot be pickled.

    For :class:`~voucher_chain.signer.base.Signer` implementations: call :meth:`reveal` at the
    moment of signing and drop the object afterwards.
    """

    __slots__ = ("__key", "address")

    def __init__(self, key: bytes, address: ChecksumAddress) -> None:
        self.__key = bytes(key)
        self.address = address

    def reveal(self) -> bytes:
        """The 32 raw bytes of the private key."""
        return self.__key

    def __repr__(self) -> str:
        return f"SecretKey(address={self.address})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a SecretKey cannot be pickled or copied")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _checksum(address: str) -> ChecksumAddress:
    if not is_address(address):
        raise UnknownAccount(f"{address!r} is not an Ethereum address", address=str(address))
    return to_checksum_address(address)


def _address_of(key: bytes) -> ChecksumAddress:
    return to_checksum_address(Account.from_key(key).address)


def _normalise_key(private_key: bytes | str) -> bytes:
    """32 raw key bytes from bytes or hex; errors never show the value."""
    if isinstance(private_key, str):
        try:
            private_key = bytes(HexBytes(private_key))
        except ValueError:
            raise ValueError("the private key is not valid hex") from None
    if len(private_key) != 32:
        raise ValueError(f"a private key has 32 bytes, not {len(private_key)}")
    return bytes(private_key)


class Keystore:
    """An open (unlocked) keystore file. Create one with :meth:`create` or :meth:`open`."""

    def __init__(self, path: Path, *, kek: bytes, document: dict[str, Any]) -> None:
        self._path = path
        self._aead = AESGCM(kek)
        self._header = {k: document[k] for k in ("format", "version", "kdf", "verifier")}
        self._entries: dict[ChecksumAddress, dict[str, Any]] = {}
        self._load_entries(document)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Keystore({str(self._path)!r}, keys={len(self._entries)})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("an unlocked Keystore cannot be pickled or copied")

    @property
    def path(self) -> Path:
        return self._path

    # -- creating and opening ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        *,
        passphrase: str | None = None,
        master_key: bytes | None = None,
        scrypt: ScryptParams | None = None,
    ) -> Keystore:
        """Creates an empty keystore at ``path`` (which must not exist).

        Unlocked by ``passphrase`` (scrypt) or ``master_key`` (32 bytes); with neither, by the
        master key in ``$VOUCHER_CHAIN_KEYSTORE_KEY``.
        """
        target = Path(path)
        if target.exists():
            raise KeystoreError(f"{target} already exists; open it instead", path=str(target))
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        kek, document = new_document(
            target, passphrase=passphrase, master_key=master_key, scrypt=scrypt
        )
        store = cls(target, kek=kek, document=document)
        with store._file_lock():
            if target.exists():
                raise KeystoreError(f"{target} already exists; open it instead", path=str(target))
            write_document(target, document)
        log.info("created keystore %s (%s)", target, document["kdf"]["name"])
        return store

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        passphrase: str | None = None,
        master_key: bytes | None = None,
    ) -> Keystore:
        """Opens and unlocks the keystore at ``path``; :class:`KeystoreLocked` if the passphrase or
        master key is wrong, :class:`KeystoreCorrupt` if the file is malformed."""
        target = Path(path)
        document = read_document(target)
        kek = unlock(target, document, passphrase=passphrase, master_key=master_key)
        mode = target.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning("keystore %s is readable by others (mode %o); use 0600", target, mode)
        log.debug("opened keystore %s (%d keys)", target, len(document["keys"]))
        return cls(target, kek=kek, document=document)

    # -- reading ----------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-reads the file (changes made by other processes or other Keystore objects)."""
        with self._lock:
            self._load_entries(read_document(self._path))

    def list(self, org_id: int | None = None, *, include_revoked: bool = True) -> list[KeyInfo]:
        """The keys (of organisation ``org_id`` if given), oldest first."""
        with self._lock:
            infos = [_info(e) for e in self._entries.values()]
        return [
            i
            for i in infos
            if (org_id is None or i.org_id == org_id) and (include_revoked or i.active)
        ]

    def info(self, address: str) -> KeyInfo:
        """What the keystore knows about ``address``; :class:`UnknownAccount` if nothing."""
        return _info(self._entry(_checksum(address)))

    def active_addresses(self, org_id: int | None = None) -> builtins.list[ChecksumAddress]:
        return [i.address for i in self.list(org_id, include_revoked=False)]

    def secret(self, address: str) -> SecretKey:
        """Decrypts the key of ``address`` (for signers only). :class:`KeyRevoked` if revoked,
        :class:`KeystoreCorrupt` if its entry fails authentication."""
        checksum = _checksum(address)
        entry = self._entry(checksum)
        if entry["status"] != KeyStatus.ACTIVE or not entry.get("ciphertext"):
            raise KeyRevoked(
                f"the key of {checksum} was revoked on {entry.get('revoked')}"
                + (
                    f"; it was replaced by {entry['replaced_by']}"
                    if entry.get("replaced_by")
                    else ""
                ),
                address=checksum,
                replaced_by=entry.get("replaced_by"),
            )
        try:
            key = self._aead.decrypt(
                bytes.fromhex(entry["nonce"]),
                bytes.fromhex(entry["ciphertext"]),
                entry_aad(checksum, entry["org_id"]),
            )
        except (InvalidTag, ValueError):
            raise KeystoreCorrupt(
                f"the entry of {checksum} in {self._path} failed authentication: it was tampered "
                "with or moved from another entry",
                path=str(self._path),
            ) from None
        return SecretKey(key, checksum)

    # -- changing ---------------------------------------------------------------------------------

    def generate(self, org_id: int | None, label: str = "") -> ChecksumAddress:
        """A fresh random key for organisation ``org_id``; returns its address."""
        return self._add(os.urandom(32), org_id, label)

    def import_key(
        self, private_key: bytes | str, org_id: int | None, label: str = ""
    ) -> ChecksumAddress:
        """Adds an existing key (32 bytes, or hex); returns its address. :class:`DuplicateKey` if
        the keystore already holds it."""
        try:
            key = _normalise_key(private_key)
        except ValueError as exc:
            raise KeystoreError(f"cannot import key: {exc}", path=str(self._path)) from None
        return self._add(key, org_id, label)

    def import_keyfile(
        self,
        keyfile: Mapping[str, Any] | str,
        passphrase: str,
        org_id: int | None,
        label: str = "",
    ) -> ChecksumAddress:
        """Imports a standard Ethereum V3 keystore JSON (as made by geth, MetaMask or
        :meth:`export`); :class:`KeystoreLocked` if ``passphrase`` does not open it."""
        data = json.loads(keyfile) if isinstance(keyfile, str) else dict(keyfile)
        try:
            key = bytes(Account.decrypt(data, passphrase))
        except ValueError as exc:
            if "MAC mismatch" in str(exc):
                raise KeystoreLocked(
                    "wrong passphrase for the V3 keyfile being imported", path=str(self._path)
                ) from None
            raise KeystoreError(
                f"not a valid V3 keyfile: {type(exc).__name__}", path=str(self._path)
            ) from None
        except (KeyError, TypeError, NotImplementedError):
            raise KeystoreError("not a valid V3 keyfile", path=str(self._path)) from None
        claimed = data.get("address")
        if claimed and _checksum(str(claimed)) != _address_of(key):
            raise KeystoreError(
                f"the V3 keyfile claims address {claimed} but holds another key",
                path=str(self._path),
            )
        return self._add(key, org_id, label)

    def export(
        self, address: str, export_passphrase: str, *, scrypt_n: int = 2**18
    ) -> dict[str, Any]:
        """The key of ``address`` as a standard Ethereum V3 keystore JSON (scrypt, ``n=scrypt_n``)
        under ``export_passphrase``, e.g. to load it into a self-custody wallet."""
        if not export_passphrase:
            raise KeystoreError("an export needs a non-empty passphrase", path=str(self._path))
        secret = self.secret(address)
        keyfile = Account.encrypt(
            secret.reveal(), export_passphrase, kdf="scrypt", iterations=scrypt_n
        )
        log.info("exported key %s as a V3 keyfile", secret.address)
        return keyfile

    def revoke(self, address: str) -> KeyInfo:
        """Marks the key revoked and wipes its ciphertext from the file (idempotent)."""
        return self._revoke(_checksum(address), replaced_by=None)

    def rotate(
        self,
        address: str,
        *,
        label: str | None = None,
        register: Callable[[ChecksumAddress, ChecksumAddress], object] | None = None,
    ) -> ChecksumAddress:
        """Replaces the key of ``address`` by a fresh key of the same organisation.

        The new key is generated and saved first; then ``register(old, new)`` runs, if given — the
        place for the registry's ``rotateAccount(new)`` call, which the *old* key must sign; only
        when it returns is the old key revoked (and wiped). If ``register`` raises, both keys stay
        active (the new one records ``rotated_from``), and the error propagates.
        """
        old = _checksum(address)
        entry = self._entry(old)
        if entry["status"] != KeyStatus.ACTIVE:
            raise KeyRevoked(f"the key of {old} is already revoked", address=old)
        new = self._add(
            os.urandom(32),
            entry["org_id"],
            label if label is not None else entry["label"],
            rotated_from=old,
        )
        if register is not None:
            register(old, new)
        self._revoke(old, replaced_by=new)
        log.info("rotated key %s -> %s (org %s)", old, new, entry["org_id"])
        return new

    # -- internals --------------------------------------------------------------------------------

    def _load_entries(self, document: Mapping[str, Any]) -> None:
        entries: dict[ChecksumAddress, dict[str, Any]] = {}
        try:
            for raw in document["keys"]:
                entries[to_checksum_address(raw["address"])] = dict(raw)
        except (KeyError, TypeError, ValueError):
            raise KeystoreCorrupt(
                f"{self._path}: malformed key entry", path=str(self._path)
            ) from None
        self._entries = entries

    def _entry(self, address: ChecksumAddress) -> dict[str, Any]:
        with self._lock:
            entry = self._entries.get(address)
            if entry is None:
                self.reload()
                entry = self._entries.get(address)
        if entry is None:
            raise UnknownAccount(
                f"keystore {self._path} holds no key for {address}", address=address
            )
        return entry

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        lock_path = self._path.with_name(self._path.name + ".lock")
        with self._lock:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    @contextmanager
    def _mutating(self) -> Iterator[dict[ChecksumAddress, dict[str, Any]]]:
        """Under the lock: fresh entries from disk to change in place, then written atomically."""
        with self._file_lock():
            document = read_document(self._path)
            if document["kdf"] != self._header["kdf"]:
                raise KeystoreError(
                    f"{self._path} was replaced by another keystore", path=str(self._path)
                )
            self._load_entries(document)
            entries = {a: dict(e) for a, e in self._entries.items()}
            yield entries
            document["keys"] = list(entries.values())
            write_document(self._path, document)
            self._entries = entries

    def _add(
        self,
        key: bytes,
        org_id: int | None,
        label: str,
        *,
        rotated_from: ChecksumAddress | None = None,
    ) -> ChecksumAddress:
        if org_id is not None and (isinstance(org_id, bool) or org_id <= 0):
            raise KeystoreError(
                f"org_id must be a positive int, not {org_id!r}", path=str(self._path)
            )
        address = _address_of(key)
        nonce = os.urandom(12)
        entry = {
            "address": address,
            "org_id": org_id,
            "label": str(label),
            "created": _now(),
            "status": KeyStatus.ACTIVE.value,
            "revoked": None,
            "replaced_by": None,
            "rotated_from": rotated_from,
            "nonce": nonce.hex(),
            "ciphertext": self._aead.encrypt(nonce, key, entry_aad(address, org_id)).hex(),
        }
        with self._mutating() as entries:
            if address in entries:
                raise DuplicateKey(
                    f"keystore {self._path} already holds {address}",
                    path=str(self._path),
                    address=address,
                )
            entries[address] = entry
        log.info("added key %s for org %s (%s)", address, org_id, label or "no label")
        return address

    def _revoke(self, address: ChecksumAddress, *, replaced_by: ChecksumAddress | None) -> KeyInfo:
        self._entry(address)  # UnknownAccount before taking the lock
        with self._mutating() as entries:
            entry = entries[address]
            if entry["status"] != KeyStatus.REVOKED:
                entry.update(
                    status=KeyStatus.REVOKED.value,
                    revoked=_now(),
                    replaced_by=replaced_by,
                    nonce=None,
                    ciphertext=None,
                )
        log.info("revoked key %s", address)
        return _info(entries[address])


def _info(entry: Mapping[str, Any]) -> KeyInfo:
    return KeyInfo(
        address=to_checksum_address(entry["address"]),
        org_id=entry["org_id"],
        label=entry["label"],
        created=entry["created"],
        status=KeyStatus(entry["status"]),
        revoked=entry.get("revoked"),
        replaced_by=entry.get("replaced_by"),
        rotated_from=entry.get("rotated_from"),
    )

"""The first :class:`~voucher_chain.signer.base.Signer`: keys from a local :class:`Keystore`,
signed with eth-account. Each signature decrypts the key just for that call."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NoReturn

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from voucher_chain.signer.base import SignedTx, Signer
from voucher_chain.signer.errors import SigningFailed
from voucher_chain.signer.keystore import Keystore, SecretKey

__all__ = ["LocalSigner"]

log = logging.getLogger(__name__)


class LocalSigner(Signer):
    """Signs with the active keys of ``keystore`` (optionally only those of ``org_id``)."""

    def __init__(self, keystore: Keystore, *, org_id: int | None = None) -> None:
        self._keystore = keystore
        self._org_id = org_id

    def __repr__(self) -> str:
        scope = "" if self._org_id is None else f", org_id={self._org_id}"
        return f"LocalSigner({self._keystore!r}{scope})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a LocalSigner cannot be pickled or copied")

    @property
    def keystore(self) -> Keystore:
        return self._keystore

    def addresses(self) -> list[ChecksumAddress]:
        return self._keystore.active_addresses(self._org_id)

    def sign_transaction(self, address: str, tx: Mapping[str, Any]) -> SignedTx:
        secret = self._secret(address)
        sender = tx.get("from")
        if sender is not None and to_checksum_address(str(sender)) != secret.address:
            raise SigningFailed(
                f"the transaction is from {sender} but was given to the key of {secret.address}",
                address=secret.address,
            )
        payload = {k: v for k, v in tx.items() if k != "from"}
        try:
            signed = Account.sign_transaction(payload, secret.reveal())
        except Exception as exc:
            _refuse("transaction", secret, exc)
        log.debug("signed transaction %s from %s", signed.hash.to_0x_hex(), secret.address)
        return SignedTx(raw_transaction=signed.raw_transaction, hash=signed.hash)

    def sign_typed_data(self, address: str, full_message: Mapping[str, Any]) -> bytes:
        secret = self._secret(address)
        try:
            signed = Account.sign_typed_data(secret.reveal(), full_message=dict(full_message))
        except Exception as exc:
            _refuse("typed data", secret, exc)
        log.debug("signed EIP-712 %s for %s", full_message.get("primaryType"), secret.address)
        return bytes(signed.signature)

    def sign_message(self, address: str, message: bytes | str) -> bytes:
        secret = self._secret(address)
        encoded = (
            encode_defunct(text=message)
            if isinstance(message, str)
            else encode_defunct(primitive=message)
        )
        try:
            signed = Account.sign_message(encoded, secret.reveal())
        except Exception as exc:
            _refuse("message", secret, exc)
        log.debug("signed a message for %s", secret.address)
        return bytes(signed.signature)

    def _secret(self, address: str) -> SecretKey:
        checksum = self.require(address)
        return self._keystore.secret(checksum)


def _refuse(what: str, secret: SecretKey, exc: Exception) -> NoReturn:
    """Re-raises a signing library error without the key (its message scrubbed, no chaining)."""
    key = secret.reveal()
    detail = str(exc)
    for form in (key.hex(), "0x" + key.hex(), repr(key)):
        detail = detail.replace(form, "<key>").replace(form.upper(), "<key>")
    raise SigningFailed(
        f"cannot sign this {what} with {secret.address}: {type(exc).__name__}: {detail}",
        address=secret.address,
    ) from None

"""The signer seam: one abstract :class:`Signer` that callers depend on.

The local keystore (:class:`~voucher_chain.signer.local.LocalSigner`) is the first implementation;
an HSM or a cloud KMS implements the same four methods and callers do not change. A signer never
hands out a key: only signatures, signed transactions and the addresses it can sign for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from hexbytes import HexBytes

from voucher_chain.signer.errors import UnknownAccount

__all__ = ["SignedTx", "Signer"]


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction, ready for ``eth_sendRawTransaction``."""

    raw_transaction: HexBytes
    hash: HexBytes


class Signer(ABC):
    """Signs for a set of accounts without ever exposing their keys.

    Every method taking an ``address`` raises :class:`~voucher_chain.signer.errors.UnknownAccount`
    when the signer cannot sign for it.
    """

    # -- accounts ---------------------------------------------------------------------------------

    @abstractmethod
    def addresses(self) -> list[ChecksumAddress]:
        """The accounts this signer can sign for now (revoked keys excluded)."""

    def has(self, address: str) -> bool:
        """Whether this signer can sign for ``address``."""
        return is_address(address) and to_checksum_address(address) in self.addresses()

    def require(self, address: str) -> ChecksumAddress:
        """``address`` checksummed, or :class:`UnknownAccount` if this signer cannot sign for it."""
        if not self.has(address):
            raise UnknownAccount(
                f"this signer holds no usable key for {address}; it signs for "
                f"{len(self.addresses())} account(s)",
                address=str(address),
            )
        return to_checksum_address(address)

    # -- signing ----------------------------------------------------------------------------------

    @abstractmethod
    def sign_transaction(self, address: str, tx: Mapping[str, Any]) -> SignedTx:
        """Signs transaction ``tx`` (web3 field names: ``nonce``, ``gas``, ``chainId``, ...)."""

    @abstractmethod
    def sign_typed_data(self, address: str, full_message: Mapping[str, Any]) -> bytes:
        """An EIP-712 signature (65 bytes, r‖s‖v) of ``full_message`` (``types``, ``domain``,
        ``primaryType``, ``message``)."""

    @abstractmethod
    def sign_message(self, address: str, message: bytes | str) -> bytes:
        """An EIP-191 (``personal_sign``) signature of ``message`` (65 bytes, r‖s‖v)."""

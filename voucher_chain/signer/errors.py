"""The signer's errors, under :class:`~voucher_chain.errors.VoucherChainError`::

    VoucherChainError
    └── SignerError                a key could not be used to sign
        ├── UnknownAccount         the signer holds no key for this address
        ├── KeyRevoked             the key was revoked (or rotated out): it no longer signs
        ├── SigningFailed          the signing library refused the payload (never shows the key)
        ├── KeystoreError          the keystore file cannot be created, read or changed
        │   ├── KeystoreLocked     wrong passphrase or master key (checked by an AEAD tag)
        │   ├── KeystoreCorrupt    the file is malformed or an entry fails authentication
        │   └── DuplicateKey       the keystore already holds this address
        └── ForwardRequestRefused  a relayer refused an EIP-712 ForwardRequest: ``reason`` says why

No message or attribute of these errors ever carries key material: only addresses.
"""

from __future__ import annotations

from enum import StrEnum

from voucher_chain.errors import ContractRevert, VoucherChainError

__all__ = [
    "DuplicateKey",
    "ForwardRequestRefused",
    "KeyRevoked",
    "KeystoreCorrupt",
    "KeystoreError",
    "KeystoreLocked",
    "RefusalReason",
    "SignerError",
    "SigningFailed",
    "UnknownAccount",
]


class SignerError(VoucherChainError):
    """Root of the signer's errors."""


class UnknownAccount(SignerError):
    """The signer holds no key for ``address``."""

    def __init__(self, message: str, *, address: str) -> None:
        super().__init__(message)
        self.address = address


class KeyRevoked(SignerError):
    """The key of ``address`` was revoked; ``replaced_by`` is its successor after a rotation."""

    def __init__(self, message: str, *, address: str, replaced_by: str | None = None) -> None:
        super().__init__(message)
        self.address = address
        self.replaced_by = replaced_by


class SigningFailed(SignerError):
    """The signing library rejected the payload (malformed transaction or typed data)."""

    def __init__(self, message: str, *, address: str) -> None:
        super().__init__(message)
        self.address = address


class KeystoreError(SignerError):
    """The keystore file at ``path`` cannot be created, read or changed."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class KeystoreLocked(KeystoreError):
    """The passphrase or master key does not unlock the keystore (or an imported keyfile)."""


class KeystoreCorrupt(KeystoreError):
    """The keystore file is malformed, or an entry failed authentication (tampered or swapped)."""


class DuplicateKey(KeystoreError):
    """The keystore already holds a key for ``address``."""

    def __init__(self, message: str, *, path: str, address: str) -> None:
        super().__init__(message, path=path)
        self.address = address


class RefusalReason(StrEnum):
    """Why a relayer refused a forward request."""

    TAMPERED = "tampered"  # the signature does not match the request's fields and signer
    EXPIRED = "expired"  # the deadline has passed
    REPLAYED = "replayed"  # the nonce was already used (the request ran before)
    FUTURE_NONCE = "future-nonce"  # the nonce is ahead of the signer's: an earlier one is missing
    OTHER_CHAIN = "other-chain"  # signed for another chain id
    WRONG_FORWARDER = "wrong-forwarder"  # signed for another forwarder contract
    UNTRUSTED_TARGET = "untrusted-target"  # the target does not trust this forwarder
    VALUE_NOT_ALLOWED = "value-not-allowed"  # requests carrying native value are not relayed
    CALL_REVERTED = "call-reverted"  # valid request, but the target contract rejected the call


class ForwardRequestRefused(SignerError):
    """A relayer refused a forward request signed by ``signer`` with ``nonce``.

    ``reason`` is a :class:`RefusalReason`; ``revert`` the contract error behind the refusal, if the
    forwarder or the target reverted (for ``CALL_REVERTED``: the target's own error, e.g.
    ``ProgramNotIssuable``).
    """

    def __init__(
        self,
        message: str,
        *,
        reason: RefusalReason,
        signer: str,
        nonce: int,
        revert: ContractRevert | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.signer = signer
        self.nonce = nonce
        self.revert = revert

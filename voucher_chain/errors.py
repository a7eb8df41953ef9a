"""The one error tree of VoucherChain.

Every error the package raises derives from :class:`VoucherChainError`::

    VoucherChainError
    ├── ArtifactError          contract build artifacts missing, unreadable or inconsistent
    ├── ContractRevert         a contract rejected a call: the Solidity custom error's name,
    │                          decoded arguments and a sentence a person can act on
    └── TransactionFailed      a transaction failed without revert data (out of gas, node error)

Context is passed as keyword-only arguments and kept on the exception, so callers (the API's
error handler, the CLI) can render it without parsing messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ArtifactError", "ContractRevert", "TransactionFailed", "VoucherChainError"]


class VoucherChainError(Exception):
    """Root of every error raised by :mod:`voucher_chain`."""


class ArtifactError(VoucherChainError):
    """The committed contract artifacts are missing or do not match what the code expects."""


class ContractRevert(VoucherChainError):
    """A contract call reverted with a known error.

    ``name`` is the Solidity error's name (``"ProgramHolderCapExceeded"``), ``args`` its decoded
    arguments by parameter name, ``selector`` the 4-byte selector as ``0x…`` hex.
    ``Error(string)`` and ``Panic(uint256)`` come back as ``name="Error"``/``"Panic"``; revert data
    no ABI explains as ``name="UnknownError"`` with the raw data in ``args["data"]``.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str,
        args: Mapping[str, Any],
        selector: str,
        data: bytes,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.args_by_name: dict[str, Any] = dict(args)
        self.selector = selector
        self.data = data

    @property
    def component(self) -> str:
        """The contract component the error belongs to, from its name's prefix (``"Program"``)."""
        for prefix in (
            "Protocol",
            "Registry",
            "Settlement",
            "Voucher",
            "Catalogue",
            "Program",
            "Order",
        ):
            if self.name.startswith(prefix):
                return prefix
        return "External"

    def __repr__(self) -> str:
        return f"ContractRevert({self.name}, {self.args_by_name!r})"


class TransactionFailed(VoucherChainError):
    """A transaction failed (status 0, or refused by the node) with no revert data to explain it."""

    def __init__(self, message: str, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash

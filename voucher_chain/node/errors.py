"""Errors of the node, rooted in :class:`voucher_chain.VoucherChainError`::

NodeError
├── NodeConfigError     bad configuration, data dir or key (raised at start)
└── RpcError            a JSON-RPC error: ``code``, ``message`` and optional ``data``
    └── TransactionRejected   a transaction refused before admission (``reason`` says why)
"""

from __future__ import annotations

from typing import Any

from voucher_chain.errors import VoucherChainError

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_INPUT",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "NodeConfigError",
    "NodeError",
    "PARSE_ERROR",
    "REVERTED",
    "RpcError",
    "TRANSACTION_REJECTED",
    "TransactionRejected",
    "UNAUTHORIZED",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: geth's code for transactions refused by the pool (nonce too low, ...).
INVALID_INPUT = -32000
#: EIP-1474 "transaction rejected".
TRANSACTION_REJECTED = -32003
#: geth's code for a revert (``execution reverted``, revert data in ``error.data``).
REVERTED = 3
UNAUTHORIZED = -32001


class NodeError(VoucherChainError):
    """Root of the node's errors."""


class NodeConfigError(NodeError):
    """The node cannot start as configured."""


class RpcError(NodeError):
    """A JSON-RPC error object."""

    def __init__(self, code: int, message: str, *, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class TransactionRejected(RpcError):
    """A transaction the node refused to admit; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, message: str, *, code: int = TRANSACTION_REJECTED) -> None:
        super().__init__(code, message, data={"reason": reason})
        self.reason = reason

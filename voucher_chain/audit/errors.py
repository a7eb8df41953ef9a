"""The audit package's errors (part of :mod:`voucher_chain.errors`' one tree)::

VoucherChainError
└── AuditError                 the audit could not do what was asked
    ├── ReorgDetected          a stored block's hash differs from the chain's: the index
    │                          followed a branch the chain no longer has
    ├── IndexMismatch          verification found the index, the events or the contracts
    │                          disagree (the CLI exits non-zero)
    └── ExportInvalid          an export's signature, anchor or figures do not check out
"""

from __future__ import annotations

from voucher_chain.errors import VoucherChainError

__all__ = ["AuditError", "ExportInvalid", "IndexMismatch", "ReorgDetected"]


class AuditError(VoucherChainError):
    """Root of the audit's errors."""


class ReorgDetected(AuditError):
    """Block ``number`` is stored with ``stored_hash`` but the chain now has ``chain_hash``.

    The indexer never rewrites history silently: re-index from an older block (or from scratch)
    after finding out why the chain changed; on a finality-based chain raise ``--confirmations``.
    """

    def __init__(self, number: int, stored_hash: str, chain_hash: str) -> None:
        super().__init__(
            f"block {number} is indexed as {stored_hash} but the chain has {chain_hash}: the "
            "chain reorganised or was rewritten; re-index from before this block"
        )
        self.number = number
        self.stored_hash = stored_hash
        self.chain_hash = chain_hash


class IndexMismatch(AuditError):
    """Verification found disagreements (listed in ``problems``)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} mismatch(es): " + "; ".join(problems[:5]))
        self.problems = problems


class ExportInvalid(AuditError):
    """An export does not check out against the chain."""

"""Doing a value-moving operation at most once, however often it is retried.

The contracts refuse a reused request id (applications, issuance, orders) and refuse every
order step that already happened; the services add the other half: before sending they look
for the operation's result on chain and return it (``replayed=True``) instead of sending again,
and after a timeout or a duplicate refusal they look again. A retry therefore returns the first
result and moves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from voucher_chain.errors import ContractRevert
from voucher_chain.signer.submit import SubmissionTimeout

__all__ = ["once"]

T = TypeVar("T")

#: Reverts meaning "this was already done", by error name.
DUPLICATE_ERRORS = frozenset(
    {"ProgramDuplicateRequest", "OrderDuplicateRequest", "ProgramApplicationNotPending"}
)


def once(
    lookup: Callable[[], T | None],
    send: Callable[[], T],
    *,
    duplicate_errors: frozenset[str] = DUPLICATE_ERRORS,
    settle_timeout: float = 30.0,
) -> T:
    """``lookup()`` if the operation is already done, else ``send()`` — exactly once on chain."""
    found = lookup()
    if found is not None:
        return found
    try:
        return send()
    except ContractRevert as exc:
        if exc.name not in duplicate_errors:
            raise
        found = lookup()
        if found is None:
            raise
        return found
    except SubmissionTimeout:
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline:
            found = lookup()
            if found is not None:
                return found
            time.sleep(0.05)
        raise

"""Doing a value-moving operation at most once, however often it is retried.

The contracts refuse a reused request id (applications, issuance, orders) and refuse every
order step that already happened; the services add the other half: they look for the
operation's result on chain and return it (``replayed=True``) instead of sending again — before
sending, and again after a timeout or a duplicate refusal. A retry therefore returns the first
result and moves nothing.

Where the contract itself refuses a repeat before anything is sent (the order operations: a
reused request id, a step already taken — the refusal comes from the gas estimate), the look
before sending is skipped (``look_first=False``): the first attempt costs no read, and a retry
finds the result after the refusal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from voucher_chain.errors import ContractRevert
from voucher_chain.signer.submit import SubmissionTimeout

__all__ = ["once"]

T = TypeVar("T")

#: Reverts meaning "this was already done", by error name (for ``look_first``: the order
#: operations look after any refusal).
DUPLICATE_ERRORS = frozenset({"ProgramDuplicateRequest", "ProgramApplicationNotPending"})


def once(
    lookup: Callable[[], T | None],
    send: Callable[[], T],
    *,
    duplicate_errors: frozenset[str] = DUPLICATE_ERRORS,
    settle_timeout: float = 30.0,
    look_first: bool = True,
) -> T:
    """``lookup()`` if the operation is already done, else ``send()`` — exactly once on chain.
    ``look_first=False`` only where the contract refuses a repeat: then any refusal is followed
    by a look (a repeat may meet another refusal first, e.g. an account frozen since)."""
    if look_first:
        found = lookup()
        if found is not None:
            return found
    try:
        return send()
    except ContractRevert as exc:
        if look_first and exc.name not in duplicate_errors:
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

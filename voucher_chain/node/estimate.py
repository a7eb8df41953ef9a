"""``eth_estimateGas`` in one execution where that is provably enough.

An estimate must be a gas limit at which the transaction does what it did at the cap. Clients
run it at the cap and then search (geth, py-evm's estimator) because gas is observable: the
``GAS`` opcode, explicit gas on calls, the EIP-150 rule that a call forwards at most 63/64 of
what is left, and EIP-2200's 2,300-gas sentry on ``SSTORE``. The node watches the first run for
the observable ones and, when the transaction never looked at its gas except to forward all of
it to a call (Solidity's ``call(gas(), …)``: ``GAS`` immediately followed by a call opcode) and
no frame failed, bounds the limit from what it used without running again:

    limit = ⌈(used + 2,300·(D+1)) · (64/63)^D⌉ + 64·(D+1),   D = the deepest call depth

By induction over frames: a frame whose children get "all but 1/64" needs at most 64/63 of a
child's need at each call, and its own use contains the child's; the sentry adds at most 2,300
per frame level, and ``64·(D+1)`` covers rounding. The limit is at least EIP-7623's data floor.
Anything else — a ``GAS`` read used otherwise, a call with explicit gas (e.g. the ERC-2771
forwarder's fixed-gas call), a failed frame — takes the search: a run at a 64/63 guess, then a
bisection. tests/node/test_estimate.py checks the bound against the exact minimum for the
protocol's operations; under ``VOUCHER_CHAIN_TEST_BACKEND=node`` every estimate of the contract
suite is re-executed at its result (tests/conftest.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eth.abc import ComputationAPI, OpcodeAPI

__all__ = ["GasWatch", "data_floor", "one_run_limit", "watched_opcodes", "watching"]

_GAS = 0x5A
_CALLS = (0xF1, 0xF2, 0xF4, 0xFA)  # CALL, CALLCODE, DELEGATECALL, STATICCALL
_SENTRY = 2_300


@dataclass
class GasWatch:
    """What one execution did with its gas: ``GAS`` reads, and how many of them went straight
    into a call as its gas argument (then the call forwards all it may)."""

    reads: int = 0
    forwarded: int = 0
    explicit_calls: int = 0
    _pending: dict[int, int] = field(default_factory=dict)  # frame → pc right after its GAS

    @property
    def gas_oblivious(self) -> bool:
        return self.reads == self.forwarded and self.explicit_calls == 0


_active = threading.local()


@contextmanager
def watching(watch: GasWatch) -> Iterator[GasWatch]:
    """Executions in this thread report to ``watch`` for the duration."""
    _active.watch = watch
    try:
        yield watch
    finally:
        _active.watch = None


class _Watched:
    """An opcode that reports to the thread's :class:`GasWatch` (if any), then runs."""

    def __init__(self, inner: OpcodeAPI, report: Callable[[GasWatch, ComputationAPI], None]):
        self.inner = inner
        self.report = report
        self.mnemonic = inner.mnemonic
        self.gas_cost: int = getattr(inner, "gas_cost", 0)

    def __call__(self, computation: ComputationAPI) -> Any:
        watch: GasWatch | None = getattr(_active, "watch", None)
        if watch is not None:
            self.report(watch, computation)
        return self.inner(computation)


# py-evm advances the program counter past an opcode before running it


def _read(watch: GasWatch, computation: ComputationAPI) -> None:
    watch.reads += 1
    watch._pending[id(computation)] = computation.code.program_counter  # the next opcode


def _call(watch: GasWatch, computation: ComputationAPI) -> None:
    at = computation.code.program_counter - 1  # this call opcode's position
    if watch._pending.pop(id(computation), None) == at:
        watch.forwarded += 1
    else:
        watch.explicit_calls += 1


def watched_opcodes(opcodes: dict[int, OpcodeAPI]) -> dict[int, OpcodeAPI]:
    """``opcodes`` with ``GAS`` and the call opcodes reporting to the thread's watch."""
    watched: dict[int, Any] = dict(opcodes)
    watched[_GAS] = _Watched(opcodes[_GAS], _read)
    for op in _CALLS:
        watched[op] = _Watched(opcodes[op], _call)
    return watched


def _depth_and_failures(computation: ComputationAPI) -> tuple[int, bool]:
    deepest, failed = 0, False
    for child in computation.children:
        depth, child_failed = _depth_and_failures(child)
        deepest = max(deepest, depth + 1)
        failed = failed or child_failed or child.is_error
    return deepest, failed


def data_floor(data: bytes) -> int:
    """EIP-7623's floor on a transaction's gas: 21,000 + 10 per calldata token."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


def one_run_limit(
    computation: ComputationAPI, used: int, watch: GasWatch, data: bytes
) -> int | None:
    """The proven-sufficient limit after one successful run (module docstring), or ``None``
    when the run observed its gas and only a search can tell."""
    depth, failed = _depth_and_failures(computation)
    if failed or not watch.gas_oblivious:
        return None
    scaled: int = -(-(used + _SENTRY * (depth + 1)) * 64**depth // 63**depth)  # exact ceiling
    return max(scaled + 64 * (depth + 1), data_floor(data))

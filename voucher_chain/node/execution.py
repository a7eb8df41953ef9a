"""Messages executed on a block's state without committing: ``eth_call`` and ``eth_estimateGas``.

Pure functions of a reader chain, so the node's own threads and its read workers
(:mod:`voucher_chain.node.read_pool`) answer them with the same code. ``pending_timestamp`` is
the dev clock both use for the block a call runs in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from eth.abc import BlockHeaderAPI, ComputationAPI, StateAPI
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address

from voucher_chain.node import views
from voucher_chain.node.chain import VoucherChainEVM
from voucher_chain.node.errors import REVERTED, RpcError
from voucher_chain.node.estimate import GasWatch, one_run_limit, watching

__all__ = [
    "CALL_GAS_CAP",
    "CallResult",
    "Clock",
    "Kind",
    "READS",
    "call",
    "estimate",
    "execute",
    "header_at",
    "pending_timestamp",
    "revert_error",
]

#: Gas cap of eth_call / eth_estimateGas (as geth's ``--rpc.gascap``).
CALL_GAS_CAP = 50_000_000


@dataclass(frozen=True)
class CallResult:
    """The outcome of executing a message against some state without committing it."""

    success: bool
    output: bytes
    gas_used: int
    error: str | None
    #: the execution's computation tree (for the estimate's analysis)
    computation: ComputationAPI | None = field(default=None, repr=False, compare=False)


class Clock(NamedTuple):
    """The dev node's clock rules (see :class:`NodeConfig`), as a value a worker can be sent."""

    frozen: bool
    offset: int
    next_timestamp: int | None


def pending_timestamp(parent: BlockHeaderAPI, clock: Clock) -> int:
    """The timestamp the block after ``parent`` gets: the wall clock plus the dev offset, or
    the frozen clock's rules, or exactly the timestamp set for the next block."""
    if clock.next_timestamp is not None:
        return max(parent.timestamp, clock.next_timestamp)
    if clock.frozen:
        return int(parent.timestamp) + 1 + clock.offset
    return max(int(parent.timestamp), int(time.time()) + clock.offset)


def revert_error(output: bytes) -> RpcError:
    return RpcError(REVERTED, "execution reverted", data=views.hexb(output))


def header_at(chain: VoucherChainEVM, block: str | int) -> BlockHeaderAPI:
    """The header a block tag or number designates (``pending`` = the head)."""
    head = chain.get_canonical_head()
    if block in ("latest", "pending", "safe", "finalized"):
        return head
    if block == "earliest":
        return chain.get_canonical_block_header_by_number(0)  # type: ignore[arg-type]
    if isinstance(block, int) and 0 <= block <= head.block_number:
        return chain.get_canonical_block_header_by_number(block)  # type: ignore[arg-type]
    raise RpcError(-32000, f"header not found: block {block}")


def execute(
    chain: VoucherChainEVM,
    header: BlockHeaderAPI,
    *,
    sender: bytes,
    to: bytes,
    data: bytes,
    value: int = 0,
    gas: int = CALL_GAS_CAP,
) -> CallResult:
    """Executes a message on top of ``header``'s state, as a block following it would."""
    vm = chain.get_vm(header)
    with vm.in_costless_state() as state:
        unsigned = vm.create_unsigned_transaction(
            nonce=state.get_nonce(Address(sender)),
            gas_price=0,
            gas=gas,
            to=Address(to),
            value=value,
            data=data,
        )
        computation = _run(state, SpoofTransaction(unsigned, from_=sender))
        used = gas - computation.get_gas_remaining()
        if computation.is_success:
            return CallResult(True, computation.output, used, None, computation)
        error = computation.error
        output = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
        return CallResult(False, output, used, type(error).__name__, computation)


def _run(state: StateAPI, transaction: Any) -> ComputationAPI:
    """py-evm's ``costless_execute_transaction`` up to the computation, without finalizing it:
    the gas refund to the sender, the fee to the coinbase and EIP-161's clearing of touched
    empty accounts only change state that a call throws away, and neither its output nor the
    gas it reports depends on them (8 % of a read worker's time).

    :func:`execute` builds ``transaction`` with a zero gas price, so py-evm's two copies of it
    at a zero gas price (one to execute, one per transaction context it overrides) would be
    the same transaction again: it runs as it is."""
    executor = state.get_transaction_executor()
    executor.validate_transaction(transaction)
    message = executor.build_evm_message(transaction)
    return executor.build_computation(message, transaction)


def call(chain: VoucherChainEVM, message: dict[str, Any], block: str | int) -> str:
    """``eth_call``: the output as hex; a revert or failure as :class:`RpcError`."""
    result = execute(chain, header_at(chain, block), **message)
    if not result.success:
        if result.error == "Revert":
            raise revert_error(result.output)
        raise RpcError(-32000, f"execution failed: {result.error}")
    return views.hexb(result.output)


def estimate(chain: VoucherChainEVM, message: dict[str, Any], block: str | int) -> str:
    """``eth_estimateGas``: one run where that is provably enough (:mod:`.estimate`), else a
    run at a 64/63 margin, then a bisection."""
    header = header_at(chain, block)
    with watching(GasWatch()) as watch:
        first = execute(chain, header, **message)
    if not first.success:
        if first.error == "Revert":
            raise revert_error(first.output)
        raise RpcError(-32000, f"gas required exceeds allowance ({first.error})")
    assert first.computation is not None
    bound = one_run_limit(first.computation, first.gas_used, watch, message["data"])
    if bound is not None and bound <= message["gas"]:
        return views.hexq(bound)  # proven enough without another run (estimate.py)
    # the run observed its gas: try a 64/63 margin, then search
    guess = min(first.gas_used * 64 // 63 + 5_000, message["gas"])
    if execute(chain, header, **{**message, "gas": guess}).success:
        return views.hexq(guess)
    low, high = guess, message["gas"]
    while high - low > 1_000:
        middle = (low + high) // 2
        if execute(chain, header, **{**message, "gas": middle}).success:
            high = middle
        else:
            low = middle
    return views.hexq(high)


#: The two reads, by the name the node and its read workers share.
Kind = Literal["call", "estimate"]
READS = {"call": call, "estimate": estimate}

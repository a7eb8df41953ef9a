"""Running EVM programs with both opcode loops: the node's (:func:`interpreter.run`, with its
compiled segments) and py-evm's, on the same state, and what each run did (an :class:`Outcome`).
Shared by ``test_interpreter.py`` and ``test_segments.py``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

import pytest
import rlp
from eth.abc import ComputationAPI
from eth_account import Account
from eth_typing import Address
from eth_utils.crypto import keccak

from scripts.bench_evm import init_code
from tests.node.evm_programs import ALL_PROGRAMS, Program
from voucher_chain.node import Node, NodeConfig, interpreter
from voucher_chain.node.chain import VoucherChainState
from voucher_chain.node.core import CallResult
from voucher_chain.node.estimate import data_floor


@dataclass(frozen=True)
class Outcome:
    """What one execution did, as far as a caller (or a block) can tell."""

    success: bool
    error: str | None
    #: the error's message (InsufficientStack's wording differs on purpose: not compared)
    message: str | None
    gas_used: int
    gas_remaining: int
    refund: int
    output: bytes
    logs: tuple[tuple[bytes, tuple[int, ...], bytes], ...]
    storage_writes: tuple[tuple[bytes, int, int], ...]
    #: where the code ran to its end (success or REVERT): the final stack and memory
    stack: tuple[int, ...] | None
    memory: bytes | None
    #: py-evm's loop only: the opcode the error came from (the node's loop keeps no pc)
    failed_opcode: int | None = field(default=None, compare=False)


def outcome(result: CallResult, writes: list[tuple[bytes, int, int]]) -> Outcome:
    computation: Any = result.computation
    assert computation is not None
    error = None if computation.is_success else computation.error
    ran_to_end = error is None or type(error).__name__ == "Revert"
    failed_opcode = None
    code = computation.code
    if error is not None and 0 < code.program_counter <= len(code):
        failed_opcode = code[code.program_counter - 1]
    return Outcome(
        success=computation.is_success,
        error=result.error,
        message=None if error is None or result.error == "InsufficientStack" else str(error),
        gas_used=result.gas_used,
        gas_remaining=computation.get_gas_remaining(),
        refund=computation.get_gas_refund(),
        output=result.output,
        logs=tuple(computation.get_log_entries()),
        storage_writes=tuple(writes),
        stack=tuple(_int(v) for v in computation._stack.values) if ran_to_end else None,
        memory=bytes(computation._memory._bytes) if ran_to_end else None,
        failed_opcode=failed_opcode,
    )


def _int(item: int | bytes) -> int:
    return item if isinstance(item, int) else int.from_bytes(item, "big")


@dataclass(frozen=True)
class Run:
    gas: int
    node: Outcome
    reference: Outcome


def _create_address(sender: bytes, nonce: int) -> Address:
    return Address(keccak(rlp.encode([sender, nonce]))[12:])


def execute(node: Node, block: int, *, reference: bool, **message: Any) -> Outcome:
    """``Node.execute`` of ``message`` at ``block`` by the node's loop or, with ``reference``,
    by py-evm's; the storage writes it made are recorded as it goes."""
    writes: list[tuple[bytes, int, int]] = []
    frames: list[ComputationAPI] = []  # what the node's loop ran
    set_storage, run = VoucherChainState.set_storage, interpreter.run

    def recording(state: Any, address: Address, slot: int, value: int) -> None:
        writes.append((bytes(address), slot, value))
        set_storage(state, address, slot, value)

    def counting(computation: ComputationAPI) -> None:
        frames.append(computation)
        run(computation)

    loop: AbstractContextManager[None] = (
        interpreter.reference_loop() if reference else nullcontext()
    )
    with pytest.MonkeyPatch.context() as patch, node.reading() as chain, loop:
        patch.setattr(VoucherChainState, "set_storage", recording)
        patch.setattr(interpreter, "run", counting)
        result = node.execute(chain, node.header_at(chain, block), **message)
    assert bool(frames) is not reference, "the loop that ran is not the one asked for"
    return outcome(result, writes)


class Lab:
    """A dev node holding every program, executing messages at its head with either loop."""

    def __init__(self, node: Node, addresses: dict[str, Address]) -> None:
        self.node = node
        self.sender = bytes(node.authority)
        self.addresses = addresses
        self.block = node.head().block_number
        self._runs: dict[str, list[Run]] = {}

    def execute(self, program: Program, gas: int, *, reference: bool) -> Outcome:
        return execute(
            self.node,
            self.block,
            reference=reference,
            sender=self.sender,
            to=self.addresses[program.name],
            data=program.calldata,
            gas=gas,
        )

    def runs(self, program: Program) -> list[Run]:
        """Both loops at a generous limit, the exact gas the code used, one less, and two
        limits in between (once per program: the coverage test reads them again)."""
        found = self._runs.get(program.name)
        if found is None:
            floor = data_floor(program.calldata)
            generous = floor + program.budget
            limits = [generous]
            used = self.execute(program, generous, reference=True).gas_used
            rng = Random(program.name)
            top = max(used, floor)
            limits += [used, used - 1, rng.randint(floor, top), rng.randint(floor, top)]
            found = [
                Run(
                    gas,
                    self.execute(program, gas, reference=False),
                    self.execute(program, gas, reference=True),
                )
                for gas in dict.fromkeys(max(limit, floor) for limit in limits)
            ]
            self._runs[program.name] = found
        return found


@contextmanager
def deployed_lab(data_dir: Path) -> Iterator[Lab]:
    """Every program deployed (by the authority, a few blocks) on a dev node of its own."""
    config = NodeConfig(data_dir=data_dir, dev=True, auto_seal=False)
    with Node(config) as node:
        account = Account.from_key(node.authority_key)
        sender = bytes(node.authority)
        addresses = {}
        for nonce, program in enumerate(ALL_PROGRAMS):
            init = init_code(program.code)
            tx = {
                "type": 2,
                "chainId": node.chain_id,
                "nonce": nonce,
                "gas": 100_000 + 300 * len(init),
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "to": b"",
                "value": 0,
                "data": init,
            }
            node.submit(bytes(account.sign_transaction(tx).raw_transaction))
            addresses[program.name] = _create_address(sender, nonce)
        while node.seal() is not None:
            pass
        with node.reading() as chain:
            state = chain.get_vm(node.head()).state
            for program in ALL_PROGRAMS:  # deployed as written
                assert state.get_code(addresses[program.name]) == program.code, program.name
        yield Lab(node, addresses)


def assert_alike(lab: Lab, program: Program) -> None:
    """Both loops did the same with ``program`` at each of its gas limits."""
    for run in lab.runs(program):
        assert run.node == run.reference, (
            f"{program.name}: code {program.code.hex()} calldata {program.calldata.hex()} "
            f"gas {run.gas}"
        )

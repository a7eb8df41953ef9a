"""The node's opcode loop: py-evm's semantics, with the common opcodes run inline.

py-evm runs every opcode through three Python calls (the opcode object, its gas charge, its
logic function, which pops and pushes through the stack's methods): ~3 µs an opcode, and a
protocol order executes ~44,000 opcodes across its estimates, calls and blocks. Nine in ten of
them are stack, arithmetic, comparison, jump and word-sized memory opcodes (measured on
``scripts/bench``'s workload: PUSH 25 %, JUMPDEST 7 %, DUP 17 %, SWAP 10 %, POP 5 %, ...).
:func:`run` executes those in one loop on py-evm's own computation objects — its stack list,
gas meter, memory and code stream — and hands every other opcode (storage, calls, logs,
hashing, environment, ``GAS``) to py-evm's implementation from the computation's opcode table,
so the estimate's watch (:mod:`.estimate`) still sees them.

What stays exactly as in py-evm, per inline opcode: the gas charged (taken from the opcode
table, checked against py-evm's logic functions when the table is built: an opcode whose entry
is not the expected py-evm function runs through the table), charged before the opcode's
logic; the exception raised for each failure (``OutOfGas``, ``InsufficientStack``,
``FullStack``, ``InvalidJumpDestination``, ``InvalidInstruction``), all of which burn the
frame's gas; the values left on the stack. One representation differs: PUSH, MLOAD and
CALLDATALOAD leave integers where py-evm leaves bytes; py-evm converts on every pop, so no
opcode can tell. What the loop adds: PUSH values and jump destinations are analysed once per
code (:func:`analyse`), and the gas left is kept in a local between table calls.

Where a run of three or more inline opcodes starts, the loop calls that run compiled into one
Python function instead (:mod:`.segments`: compiled once per code and position, the stack
tracked while compiling, the run's static gas charged at once); a segment that would fail
refuses, and the loop runs its opcodes one by one — the code below — to fail as py-evm does.

Checked by ``tests/node/test_interpreter.py`` and ``tests/node/test_segments.py`` (626
programs at several gas limits and the protocol's estimates and calls, each run by both loops
and compared: success, error type, gas, refund, output, logs, storage writes, stack, memory)
and by ``voucher-chain verify --replay``, which re-executes every block with py-evm's own loop
(:func:`reference_loop`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eth.abc import ComputationAPI, OpcodeAPI
from eth.exceptions import (
    FullStack,
    Halt,
    InsufficientStack,
    InvalidInstruction,
    InvalidJumpDestination,
    OutOfGas,
    VMError,
)
from eth.vm.logic import arithmetic, comparison, context, duplication, flow, memory, stack, swap
from eth.vm.logic.invalid import InvalidOpcode

from .segments import SIGN_BIT, TWO_256, UINT_MAX, compile_segment, segments_for

__all__ = ["analyse", "inline_costs", "reference_loop", "run", "uses_reference"]

#: opcode → the py-evm logic function the inline code stands for (checked per opcode table)
_EXPECTED: dict[int, Callable[..., Any]] = {
    0x01: arithmetic.add,
    0x02: arithmetic.mul,
    0x03: arithmetic.sub,
    0x04: arithmetic.div,
    0x10: comparison.lt,
    0x11: comparison.gt,
    0x12: comparison.slt,
    0x13: comparison.sgt,
    0x14: comparison.eq,
    0x15: comparison.iszero,
    0x16: comparison.and_op,
    0x17: comparison.or_op,
    0x18: comparison.xor,
    0x19: comparison.not_op,
    0x1B: arithmetic.shl,
    0x1C: arithmetic.shr,
    0x34: context.callvalue,
    0x35: context.calldataload,
    0x36: context.calldatasize,
    0x50: stack.pop,
    0x51: memory.mload,
    0x52: memory.mstore,
    0x56: flow.jump,
    0x57: flow.jumpi,
    0x5B: flow.jumpdest,
    0x5F: stack.push0,
    **{0x5F + n: getattr(stack, f"push{n}") for n in range(1, 33)},
    **{0x7F + n: getattr(duplication, f"dup{n}") for n in range(1, 17)},
    **{0x8F + n: getattr(swap, f"swap{n}") for n in range(1, 17)},
}

#: id(opcode table) → gas per opcode run inline, -1 for those run through the table. Opcode
#: tables are class attributes of computation classes: they live as long as the process.
_COSTS: dict[int, tuple[int, ...]] = {}

#: code → (jump destinations, {position of a PUSH: its value})
_ANALYSES: dict[bytes, tuple[frozenset[int], dict[int, int]]] = {}
_MAX_ANALYSES = 1_000


def inline_costs(opcodes: dict[int, OpcodeAPI]) -> tuple[int, ...]:
    """Per opcode, the gas :func:`run` charges when it runs the opcode inline, or -1 when it
    calls ``opcodes``' entry: inline only where the entry is py-evm's plain opcode for the
    logic function the inline code implements (never a wrapped or replaced one)."""
    costs = _COSTS.get(id(opcodes))
    if costs is None:
        found = [-1] * 256
        for op, logic in _EXPECTED.items():
            entry = opcodes.get(op)
            if entry is not None and getattr(entry, "logic_fn", None) is logic:
                found[op] = int(entry.gas_cost)  # type: ignore[attr-defined]
        costs = _COSTS[id(opcodes)] = tuple(found)
    return costs


def analyse(code: bytes) -> tuple[frozenset[int], dict[int, int]]:
    """``code``'s jump destinations (JUMPDEST opcodes, not PUSH data) and the value each PUSH
    pushes (its data, zero-padded on the right where the code ends first); once per code."""
    found = _ANALYSES.get(code)
    if found is None:
        dests: list[int] = []
        pushes: dict[int, int] = {}
        i, end = 0, len(code)
        while i < end:
            op = code[i]
            if op == 0x5B:
                dests.append(i)
            elif 0x60 <= op <= 0x7F:
                size = op - 0x5F
                data = code[i + 1 : i + 1 + size]
                pushes[i] = int.from_bytes(data.ljust(size, b"\x00"), "big")
                i += size
            i += 1
        found = (frozenset(dests), pushes)
        if len(_ANALYSES) >= _MAX_ANALYSES:
            _ANALYSES.clear()
        _ANALYSES[code] = found
    return found


def _out_of_gas(needed: int, remaining: int, op: int, opcodes: dict[int, OpcodeAPI]) -> OutOfGas:
    mnemonic = getattr(opcodes.get(op), "mnemonic", hex(op))
    return OutOfGas(f"Out of gas: Needed {needed} - Remaining {remaining} - Reason: {mnemonic}")


def run(computation: ComputationAPI) -> None:  # noqa: C901, PLR0912, PLR0915 — one loop on purpose
    """Executes ``computation``'s code to its end (``STOP``/``RETURN``/``REVERT``/``Halt``) or
    to the VM error it raises, exactly as py-evm's loop in ``apply_computation`` would.

    The gas left is kept in a local and written back to the gas meter before anything else can
    see it: before each opcode run through the table, before a memory expansion is charged,
    and before returning or raising."""
    comp: Any = computation
    code = comp.code
    raw: bytes = code._raw_code_bytes
    end = len(raw)
    values: list[Any] = comp._stack.values
    push = values.append
    pop = values.pop
    meter = comp._gas_meter
    mem = comp._memory
    opcodes: dict[int, OpcodeAPI] = comp.opcodes
    costs = inline_costs(opcodes)
    targets, pushes = analyse(raw)
    msg = comp.msg
    pc = code.program_counter
    gas: int = meter.gas_remaining
    segments = segments_for(costs, raw)
    fast = True  # False from a segment's refusal to the next opcode run through the table

    while True:
        if pc >= end:
            meter.gas_remaining = gas
            return  # py-evm runs an implicit STOP: no gas, halts
        op = raw[pc]
        cost = costs[op]
        if cost >= 0 and fast:
            try:
                segment = segments[pc]
            except KeyError:
                segment = segments[pc] = compile_segment(raw, pc, costs, targets, pushes)
            if segment is not None:
                ran = segment(values, gas, comp, meter, mem, msg)
                if ran is not None:
                    pc, gas = ran
                    if pc < 0:
                        pc = -1 - pc
                        fast = False
                    continue
                fast = False
        if cost < 0:
            fast = True
            code.program_counter = pc + 1
            meter.gas_remaining = gas
            try:
                (opcodes.get(op) or InvalidOpcode(op))(computation=computation)
            except Halt:
                return
            pc = code.program_counter
            gas = meter.gas_remaining
            continue
        if cost > gas:
            meter.gas_remaining = gas
            raise _out_of_gas(cost, gas, op, opcodes)
        gas -= cost
        try:
            if op >= 0x60:
                if op < 0x80:  # PUSH1..PUSH32
                    if len(values) > 1023:
                        raise FullStack("Stack limit reached")
                    push(pushes[pc])
                    pc += op - 0x5E
                    continue
                pc += 1
                if op < 0x90:  # DUP1..DUP16
                    if len(values) > 1023:
                        raise FullStack("Stack limit reached")
                    try:
                        push(values[0x7F - op])
                    except IndexError:
                        raise InsufficientStack(
                            f"Insufficient stack items for DUP{op - 0x7F}"
                        ) from None
                else:  # SWAP1..SWAP16
                    idx = 0x8E - op
                    try:
                        values[-1], values[idx] = values[idx], values[-1]
                    except IndexError:
                        raise InsufficientStack(
                            f"Insufficient stack items for SWAP{op - 0x8F}"
                        ) from None
                continue
            pc += 1
            if op == 0x5B:  # JUMPDEST
                pass
            elif op == 0x56 or op == 0x57:  # JUMP, JUMPI
                dest = pop()
                if dest.__class__ is not int:
                    dest = int.from_bytes(dest, "big")
                if op == 0x57:
                    check = pop()
                    if not (check if check.__class__ is int else int.from_bytes(check, "big")):
                        continue
                if dest not in targets:
                    if dest >= end or raw[dest] != 0x5B:
                        raise InvalidJumpDestination("Invalid Jump Destination")
                    raise InvalidInstruction("Jump resulted in invalid instruction")
                pc = dest
            elif op == 0x50:  # POP
                pop()
            elif op == 0x5F:  # PUSH0
                if len(values) > 1023:
                    raise FullStack("Stack limit reached")
                push(0)
            elif op == 0x51 or op == 0x52:  # MLOAD, MSTORE
                start = pop()
                if start.__class__ is not int:
                    start = int.from_bytes(start, "big")
                if op == 0x52:
                    word = pop()
                    word = (
                        word.to_bytes(32, "big")
                        if word.__class__ is int
                        else word.rjust(32, b"\x00")[-32:]
                    )
                if start + 32 > len(mem._bytes):
                    meter.gas_remaining = gas
                    comp.extend_memory(start, 32)  # charges the expansion, may raise OutOfGas
                    gas = meter.gas_remaining
                if op == 0x51:
                    push(int.from_bytes(mem._bytes[start : start + 32], "big"))
                else:
                    mem._bytes[start : start + 32] = word
            elif op <= 0x04:  # ADD MUL SUB DIV
                a = pop()
                b = pop()
                if a.__class__ is not int:
                    a = int.from_bytes(a, "big")
                if b.__class__ is not int:
                    b = int.from_bytes(b, "big")
                if op == 0x01:
                    push((a + b) & UINT_MAX)
                elif op == 0x03:
                    push((a - b) & UINT_MAX)
                elif op == 0x02:
                    push((a * b) & UINT_MAX)
                else:
                    push(a // b if b else 0)
            elif 0x10 <= op <= 0x1C:  # comparison, bitwise, shifts
                a = pop()
                if a.__class__ is not int:
                    a = int.from_bytes(a, "big")
                if op == 0x15:  # ISZERO
                    push(0 if a else 1)
                    continue
                if op == 0x19:  # NOT
                    push(UINT_MAX - a)
                    continue
                b = pop()
                if b.__class__ is not int:
                    b = int.from_bytes(b, "big")
                if op == 0x16:
                    push(a & b)
                elif op == 0x14:
                    push(1 if a == b else 0)
                elif op == 0x10:
                    push(1 if a < b else 0)
                elif op == 0x11:
                    push(1 if a > b else 0)
                elif op == 0x1B:  # SHL: a is the shift
                    push(0 if a >= 256 else (b << a) & UINT_MAX)
                elif op == 0x1C:  # SHR
                    push(0 if a >= 256 else b >> a)
                elif op == 0x17:
                    push(a | b)
                elif op == 0x18:
                    push(a ^ b)
                else:  # SLT 0x12, SGT 0x13
                    sa = a - TWO_256 if a & SIGN_BIT else a
                    sb = b - TWO_256 if b & SIGN_BIT else b
                    push(1 if (sa < sb if op == 0x12 else sa > sb) else 0)
            elif op == 0x35:  # CALLDATALOAD
                start = pop()
                if start.__class__ is not int:
                    start = int.from_bytes(start, "big")
                chunk = msg.data_as_bytes[start : start + 32]
                push(int.from_bytes(chunk.ljust(32, b"\x00"), "big"))
            elif op == 0x36:  # CALLDATASIZE
                if len(values) > 1023:
                    raise FullStack("Stack limit reached")
                push(len(msg.data))
            else:  # CALLVALUE 0x34
                if len(values) > 1023:
                    raise FullStack("Stack limit reached")
                push(msg.value)
        except IndexError:
            meter.gas_remaining = gas
            raise InsufficientStack("Wanted more stack items than there were") from None
        except VMError:
            meter.gas_remaining = gas
            raise


_local = threading.local()


def uses_reference() -> bool:
    """Whether this thread executes with py-evm's own loop (see :func:`reference_loop`)."""
    return bool(getattr(_local, "reference", False))


@contextmanager
def reference_loop() -> Iterator[None]:
    """Executions in this thread use py-evm's own opcode loop for the duration: the oracle
    :func:`run` is checked against (``verify --replay``, the tests)."""
    before = uses_reference()
    _local.reference = True
    try:
        yield
    finally:
        _local.reference = before

"""Straight-line runs of inline opcodes compiled once into Python functions.

:func:`.interpreter.run` decodes and dispatches every opcode: about half of an estimate's
execution (py-spy on ``scripts/bench``'s read worker, 2026-11-27). A
*segment* is the run of inline opcodes (those :func:`.interpreter.inline_costs` allows) that
starts at a program counter and ends before the next opcode run through the table, after a
``JUMP``/``JUMPI``, or at the end of the code. It executes the same way every time it is
entered, so :func:`compile_segment` turns it into one Python function: ``PUSH``, ``DUP``,
``SWAP``, ``POP`` and ``JUMPDEST`` cost nothing at run time (the stack is tracked while
compiling, the items are locals), constant operands are folded, the static gas of the whole
run is charged at once, and the stack is written back once, at the end.

Exactly py-evm's outcome, by construction:

- A segment *refuses* (returns ``None``) unless the stack holds what it needs, has room for
  what it pushes, and the gas left covers its static gas: then some opcode of it fails, and
  the interpreter runs it opcode by opcode to fail where py-evm fails.
- ``MLOAD``/``MSTORE`` beyond the memory charge the expansion with the gas py-evm would have
  left at that opcode (the static gas of the opcodes after it added back). When an expansion
  leaves less than those opcodes need, the segment writes the stack as it stands after the
  memory opcode and hands the rest to the opcode-by-opcode loop (a negative program counter).
- A jump writes the stack back before checking its destination, and fails as py-evm does.

Checked with the interpreter by ``tests/node/test_interpreter.py`` (every program at several gas
limits against py-evm's loop) and ``tests/node/test_segments.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from eth.constants import GAS_MEMORY, GAS_MEMORY_QUADRATIC_DENOMINATOR
from eth.exceptions import InvalidInstruction, InvalidJumpDestination

__all__ = ["MIN_OPCODES", "Segment", "compile_segment", "segments_for"]

UINT_MAX = 2**256 - 1
SIGN_BIT = 2**255
TWO_256 = 2**256


class Segment(Protocol):
    """A compiled segment: (stack values, gas, computation, gas meter, memory, message) → the
    next program counter and the gas left (a negative pc -1-p: go on opcode by opcode from p),
    or ``None`` when it refuses."""

    need: int  #: items it reads below the stack it finds
    peak: int  #: most items it pushes above it
    gas: int  #: its static gas
    source: str  #: the Python it was compiled from

    def __call__(
        self, values: list[Any], gas: int, comp: Any, meter: Any, mem: Any, msg: Any, /
    ) -> tuple[int, int] | None: ...


#: runs shorter than this stay with the opcode loop (a call costs about what it saves)
MIN_OPCODES = 3


class _Kept:
    """The segments compiled so far: (id of the opcode costs, code) → {pc: its segment, or None
    where none starts}; all forgotten past _MAX_CODES codes or _MAX_SEGMENTS segments (~1
    KB each). A frame running when they are forgotten keeps its code's dict to its end."""

    def __init__(self) -> None:
        self.codes: dict[tuple[int, bytes], dict[int, Segment | None]] = {}
        self.segments = 0

    def clear(self) -> None:
        self.codes.clear()
        self.segments = 0


_KEPT = _Kept()
_MAX_CODES = 1_000
_MAX_SEGMENTS = 20_000

# opcode → (its expression over a, the top item, and b, the next; the same on constants)
_BINARY: dict[int, tuple[str, Callable[[int, int], int]]] = {
    0x01: ("({a} + {b}) & UINT_MAX", lambda a, b: (a + b) & UINT_MAX),
    0x02: ("({a} * {b}) & UINT_MAX", lambda a, b: (a * b) & UINT_MAX),
    0x03: ("({a} - {b}) & UINT_MAX", lambda a, b: (a - b) & UINT_MAX),
    0x04: ("({a} // {b} if {b} else 0)", lambda a, b: a // b if b else 0),
    0x10: ("(1 if {a} < {b} else 0)", lambda a, b: 1 if a < b else 0),
    0x11: ("(1 if {a} > {b} else 0)", lambda a, b: 1 if a > b else 0),
    0x12: (
        "(1 if ({a} - TWO_256 if {a} & SIGN_BIT else {a}) < ({b} - TWO_256 if {b} & SIGN_BIT"
        " else {b}) else 0)",
        lambda a, b: 1 if _signed(a) < _signed(b) else 0,
    ),
    0x13: (
        "(1 if ({a} - TWO_256 if {a} & SIGN_BIT else {a}) > ({b} - TWO_256 if {b} & SIGN_BIT"
        " else {b}) else 0)",
        lambda a, b: 1 if _signed(a) > _signed(b) else 0,
    ),
    0x14: ("(1 if {a} == {b} else 0)", lambda a, b: 1 if a == b else 0),
    0x16: ("({a} & {b})", lambda a, b: a & b),
    0x17: ("({a} | {b})", lambda a, b: a | b),
    0x18: ("({a} ^ {b})", lambda a, b: a ^ b),
    0x1B: (
        "(0 if {a} >= 256 else ({b} << {a}) & UINT_MAX)",
        lambda a, b: 0 if a >= 256 else (b << a) & UINT_MAX,
    ),
    0x1C: ("(0 if {a} >= 256 else {b} >> {a})", lambda a, b: 0 if a >= 256 else b >> a),
}
_UNARY: dict[int, tuple[str, Callable[[int], int]]] = {
    0x15: ("(0 if {a} else 1)", lambda a: 0 if a else 1),
    0x19: ("(UINT_MAX - {a})", lambda a: UINT_MAX - a),
}


def expand(comp: Any, meter: Any, mem: Any, start: int, gas: int) -> int:
    """``comp.extend_memory(start, 32)`` with ``gas`` left, py-evm's charge without its
    validations and logging: the gas left after it (py-evm raises where it runs out)."""
    words = (start + 63) // 32
    before = (len(mem._bytes) + 31) // 32
    fee = words * GAS_MEMORY + words * words // GAS_MEMORY_QUADRATIC_DENOMINATOR
    fee -= before * GAS_MEMORY + before * before // GAS_MEMORY_QUADRATIC_DENOMINATOR
    if fee > gas:  # py-evm's own charge: it raises OutOfGas, message and all
        meter.gas_remaining = gas
        comp.extend_memory(start, 32)
        return int(meter.gas_remaining)
    mem.extend(start, 32)
    return gas - fee


_GLOBALS: dict[str, Any] = {
    "UINT_MAX": UINT_MAX,
    "SIGN_BIT": SIGN_BIT,
    "TWO_256": TWO_256,
    "InvalidInstruction": InvalidInstruction,
    "InvalidJumpDestination": InvalidJumpDestination,
    "expand": expand,
    "__builtins__": {"len": len, "int": int},
}


def _signed(v: int) -> int:
    return v - TWO_256 if v & SIGN_BIT else v


def segments_for(costs: tuple[int, ...], code: bytes) -> dict[int, Segment | None]:
    """The segments of ``code`` compiled so far under ``costs`` (a tuple that
    :func:`.interpreter.inline_costs` keeps for the life of the process), filled in by the
    interpreter as it meets them."""
    key = (id(costs), code)  # a costs tuple lives as long as its opcode table: the process
    found = _KEPT.codes.get(key)
    if found is None:
        if len(_KEPT.codes) >= _MAX_CODES:
            _KEPT.clear()
        found = _KEPT.codes[key] = {}
    return found


def _span(code: bytes, start: int, costs: tuple[int, ...]) -> list[tuple[int, int]]:
    """The (pc, opcode) of the segment at ``start``."""
    ops: list[tuple[int, int]] = []
    pc, end = start, len(code)
    while pc < end:
        op = code[pc]
        if costs[op] < 0:
            break
        ops.append((pc, op))
        if op in (0x56, 0x57):
            break
        pc = _next(pc, op)
    return ops


def compile_segment(
    code: bytes,
    start: int,
    costs: tuple[int, ...],
    targets: frozenset[int],
    pushes: dict[int, int],
) -> Segment | None:
    """The function running ``code``'s segment at ``start``, or ``None`` when it is shorter
    than :data:`MIN_OPCODES`."""
    ops = _span(code, start, costs)
    if len(ops) < MIN_OPCODES:
        return None
    if _KEPT.segments >= _MAX_SEGMENTS:
        _KEPT.clear()
    _KEPT.segments += 1
    return _Compiler(code, ops, costs, targets, pushes).build()


class _Compiler:
    """Tracks the stack symbolically over one segment and writes its function's source."""

    def __init__(
        self,
        code: bytes,
        ops: list[tuple[int, int]],
        costs: tuple[int, ...],
        targets: frozenset[int],
        pushes: dict[int, int],
    ) -> None:
        self.code = code
        self.ops = ops
        self.costs = costs
        self.targets = targets
        self.pushes = pushes
        self.lines: list[str] = []
        self.temps = 0
        self.need, self.peak = self._bounds()
        # the stack above the part the segment leaves alone: int constants and local names
        self.stack: list[int | str] = [f"e{d}" for d in range(self.need, 0, -1)]

    def _bounds(self) -> tuple[int, int]:
        """How many items the segment reads below the stack it found, and the most it has
        pushed above it at any point."""
        need = peak = height = 0
        for _, op in self.ops:
            reads, net = _effect(op)
            need = max(need, reads - height)
            peak = max(peak, height + net)
            height += net
        return need, peak

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    def temp(self, expression: str) -> str:
        self.temps += 1
        name = f"t{self.temps}"
        self.emit(f"{name} = {expression}")
        return name

    def pop(self) -> int | str:
        return self.stack.pop()

    def write_back(self, indent: int = 1) -> None:
        """The stack as it stands, written over the items the segment read; the bottom items
        still where they were are left alone."""
        keep = 0
        for item in self.stack[: self.need]:
            if item != f"e{self.need - keep}":
                break
            keep += 1
        rest = [str(v) for v in self.stack[keep:]]
        if keep == self.need:  # nothing below changed: only pushes
            if len(rest) == 1:
                self.emit(f"values.append({rest[0]})", indent)
            elif rest:
                self.emit(f"values.extend(({', '.join(rest)}))", indent)
            return
        at = "base" if keep == 0 else f"base + {keep}"
        self.emit(f"values[{at}:] = ({', '.join(rest)}{',' if len(rest) == 1 else ''})", indent)

    def build(self) -> Segment:
        total = sum(self.costs[op] for _, op in self.ops)
        self.emit(f"base = len(values) - {self.need}")
        self.emit(f"if base < 0 or base > {1024 - self.need - self.peak} or gas < {total}:")
        self.emit("return None", 2)
        self.emit(f"gas -= {total}")
        for d in range(1, self.need + 1):
            self.emit(f"e{d} = values[-{d}]")
            self.emit(f"if e{d}.__class__ is not int: e{d} = int.from_bytes(e{d}, 'big')")
        charged = 0
        last_pc, last_op = self.ops[-1]
        for pc, op in self.ops:
            charged += self.costs[op]
            after = total - charged  # static gas of the opcodes after this one
            self.opcode(pc, op, after)
        if last_op not in (0x56, 0x57):
            self.write_back()
            self.emit(f"return ({_next(last_pc, last_op)}, gas)")
        source = "def segment(values, gas, comp, meter, mem, msg):\n" + "\n".join(self.lines)
        namespace: dict[str, Any] = {"code": self.code, "targets": self.targets}
        # the source holds integers and the names above only: nothing of the code's bytes
        compiled = compile(source, f"<segment {self.ops[0][0]}>", "exec")
        exec(compiled, {**_GLOBALS, **namespace}, namespace)  # noqa: S102
        segment = cast(Segment, namespace["segment"])
        segment.need, segment.peak, segment.gas = self.need, self.peak, total
        segment.source = source
        return segment

    def opcode(self, pc: int, op: int, after: int) -> None:  # noqa: C901, PLR0912
        stack = self.stack
        if 0x5F <= op <= 0x7F:  # PUSH0..PUSH32
            stack.append(self.pushes[pc] if op > 0x5F else 0)
        elif 0x80 <= op <= 0x8F:  # DUP
            stack.append(stack[0x7F - op])
        elif 0x90 <= op <= 0x9F:  # SWAP
            idx = 0x8E - op
            stack[-1], stack[idx] = stack[idx], stack[-1]
        elif op == 0x50:  # POP
            stack.pop()
        elif op == 0x5B:  # JUMPDEST
            pass
        elif op in _BINARY:
            a, b = self.pop(), self.pop()
            template, fold = _BINARY[op]
            if isinstance(a, int) and isinstance(b, int):
                stack.append(fold(a, b))
            else:
                stack.append(self.temp(template.format(a=a, b=b)))
        elif op in _UNARY:
            a = self.pop()
            template, fold1 = _UNARY[op]
            stack.append(fold1(a) if isinstance(a, int) else self.temp(template.format(a=a)))
        elif op == 0x34:  # CALLVALUE
            stack.append(self.temp("msg.value"))
        elif op == 0x36:  # CALLDATASIZE
            stack.append(self.temp("len(msg.data)"))
        elif op == 0x35:  # CALLDATALOAD
            a = self.pop()
            chunk = f"msg.data_as_bytes[{a}:{a} + 32]"
            stack.append(self.temp(f"int.from_bytes({chunk}.ljust(32, b'\\x00'), 'big')"))
        elif op in (0x51, 0x52):  # MLOAD, MSTORE
            self.memory(pc, op, after)
        else:  # JUMP, JUMPI: always last
            self.jump(pc, op)

    def memory(self, pc: int, op: int, after: int) -> None:
        start = self.pop()
        if op == 0x52:
            word = self.pop()
            data = (
                repr(word.to_bytes(32, "big"))
                if isinstance(word, int)
                else f"{word}.to_bytes(32, 'big')"
            )
        end = start + 32 if isinstance(start, int) else f"{start} + 32"
        self.emit(f"if {end} > len(mem._bytes):")
        self.emit(f"gas = expand(comp, meter, mem, {start}, gas + {after}) - {after}", 2)
        if op == 0x51:
            self.stack.append(self.temp(f"int.from_bytes(mem._bytes[{start}:{start} + 32], 'big')"))
        else:
            self.emit(f"mem._bytes[{start}:{start} + 32] = {data}")
        if after:  # an expansion may leave too little for the opcodes after this one
            self.emit("if gas < 0:")
            self.write_back(2)
            self.emit(f"return ({-1 - _next(pc, op)}, gas + {after})", 2)

    def jump(self, pc: int, op: int) -> None:
        dest = self.pop()
        check = self.pop() if op == 0x57 else 1
        self.write_back()
        if isinstance(check, int):
            if not check:
                self.emit(f"return ({pc + 1}, gas)")
                return
        else:
            self.emit(f"if not {check}:")
            self.emit(f"return ({pc + 1}, gas)", 2)
        if isinstance(dest, int) and dest in self.targets:
            self.emit(f"return ({dest}, gas)")
            return
        self.emit(f"if {dest} in targets:")
        self.emit(f"return ({dest}, gas)", 2)
        self.emit("meter.gas_remaining = gas")
        self.emit(f"if {dest} >= {len(self.code)} or code[{dest}] != 0x5B:")
        self.emit("raise InvalidJumpDestination('Invalid Jump Destination')", 2)
        self.emit("raise InvalidInstruction('Jump resulted in invalid instruction')")


def _next(pc: int, op: int) -> int:
    return pc + (op - 0x5E if 0x60 <= op <= 0x7F else 1)


def _effect(op: int) -> tuple[int, int]:
    """(items the opcode reads from the top, change in stack height)."""
    if 0x5F <= op <= 0x7F:
        return 0, 1
    if 0x80 <= op <= 0x8F:
        return op - 0x7F, 1
    if 0x90 <= op <= 0x9F:
        return op - 0x8E, 0
    if op in _BINARY:
        return 2, -1
    if op in _UNARY or op == 0x35 or op == 0x51:
        return 1, 0
    if op in (0x34, 0x36):
        return 0, 1
    if op in (0x50, 0x56):
        return 1, -1
    if op in (0x52, 0x57):
        return 2, -2
    return 0, 0  # JUMPDEST

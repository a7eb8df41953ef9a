"""Programs for tests/node/test_interpreter.py: random runtime bytecode from a weighted
alphabet of opcodes (fixed seeds) and hand-written edge programs, each named for what it hits.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

UINT_MAX = 2**256 - 1

# -- the opcodes ----------------------------------------------------------------------------------

ADD, MUL, SUB, DIV, SDIV, MOD, EXP = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0A
LT, GT, SLT, SGT, EQ, ISZERO, AND, OR, XOR, NOT = range(0x10, 0x1A)
BYTE, SHL, SHR, SAR = 0x1A, 0x1B, 0x1C, 0x1D
KECCAK256, ADDRESS, CALLER, CALLVALUE, CALLDATALOAD, CALLDATASIZE, CALLDATACOPY = (
    0x20,
    0x30,
    0x33,
    0x34,
    0x35,
    0x36,
    0x37,
)
EXTCODEHASH, BLOCKHASH, BLOBHASH = 0x3F, 0x40, 0x49
POP, MLOAD, MSTORE, MSTORE8, SLOAD, SSTORE, JUMP, JUMPI, PC, MSIZE, GAS, JUMPDEST = range(
    0x50, 0x5C
)
PUSH0, PUSH1, PUSH2, PUSH3, PUSH32, DUP1, SWAP1 = 0x5F, 0x60, 0x61, 0x62, 0x7F, 0x80, 0x90
STOP, LOG1, RETURN, REVERT, INVALID = 0x00, 0xA1, 0xF3, 0xFD, 0xFE
CALLS = (0xF1, 0xF2, 0xF4, 0xFA)  # CALL, CALLCODE, DELEGATECALL, STATICCALL
#: not assigned in Prague (0xEF: EIP-3541's reserved byte)
UNASSIGNED = (0x0C, 0x0D, 0x0F, 0x1E, 0x21, 0x2F, 0x4B, 0xA5, 0xEF, 0xF6)

#: what the node's loop runs itself, with how many stack items each pops
BINARY = (ADD, MUL, SUB, DIV, LT, GT, SLT, SGT, EQ, AND, OR, XOR, SHL, SHR)
POPS: dict[int, int] = {
    **dict.fromkeys(BINARY, 2),
    ISZERO: 1,
    NOT: 1,
    POP: 1,
    MLOAD: 1,
    MSTORE: 2,
    JUMP: 1,
    JUMPI: 2,
    CALLDATALOAD: 1,
    **{DUP1 + n - 1: n for n in range(1, 17)},
    **{SWAP1 + n - 1: n + 1 for n in range(1, 17)},
}
INLINE = frozenset(POPS) | {JUMPDEST, CALLDATASIZE, CALLVALUE} | set(range(PUSH0, PUSH32 + 1))
#: run by py-evm in both loops, next to the inline ones in the programs
NEIGHBOURS_BINARY = (BYTE, SAR, MOD, SDIV, EXP)


# -- random programs ------------------------------------------------------------------------------

BOUNDARY = (0, 1, 2, 31, 32, 255, 256, 0x5B, 2**128, 2**255 - 1, 2**255, UINT_MAX - 1, UINT_MAX)
FAR_OFFSETS = (2**16, 2**20, 2**32, 2**255, UINT_MAX)  # memory expansion beyond any gas


@dataclass(frozen=True)
class Program:
    """Runtime code to run, with its calldata and the execution gas of its generous run."""

    name: str
    code: bytes
    calldata: bytes = b""
    budget: int = 50_000


#: the generator's alphabet: letter → weight (see ``_Builder.step``)
ALPHABET: dict[str, float] = {
    "push": 22,
    "dup": 9,
    "swap": 7,
    "pop": 3,
    "binary": 14,  # ADD MUL SUB DIV LT GT SLT SGT EQ AND OR XOR SHL SHR
    "unary": 3,  # ISZERO NOT
    "neighbour": 3,  # BYTE SAR MOD SDIV EXP: py-evm's
    "jumpdest": 2,
    "jump": 4,  # to a JUMPDEST, a 0x5B in PUSH data, another opcode, past the end
    "far jump": 0.3,
    "mstore": 5,
    "mload": 4,
    "mstore8": 1,
    "calldataload": 3,
    "calldata": 2,  # CALLDATASIZE CALLVALUE
    "storage": 2,  # SLOAD SSTORE
    "environment": 2,  # MSIZE PC GAS ADDRESS CALLER
    "zero bytes": 1.5,  # BLOCKHASH EXTCODEHASH BLOBHASH of nothing: b"", b"\0", 32 x b"\0"
    "copy": 1,  # CALLDATACOPY
    "keccak": 1,
    "log": 1,  # LOG1
    "end": 1.2,  # STOP RETURN REVERT
    "invalid": 0.5,  # INVALID, unassigned opcodes
    "flood": 0.1,  # ~1,024 x PUSH0
}


class _Builder:
    """One random program: opcodes picked from a weighted alphabet, operands mostly pushed
    first (so most operations do something), jump targets resolved once the code is known."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.code = bytearray()
        self.depth = 0  # the stack depth the code would have, ignoring jumps
        self.fixups: list[tuple[int, str]] = []  # (PUSH2 data position, target kind)
        self.owed_jumpdests = 0

    # values

    def value(self) -> int:
        r = self.rng.random()
        if r < 0.4:
            return self.rng.choice(BOUNDARY)
        if r < 0.7:
            return self.rng.randrange(300)
        if r < 0.85:
            return self.rng.getrandbits(256)
        return self.rng.getrandbits(self.rng.randint(1, 256))

    def offset(self) -> int:
        """A memory offset: mostly within the first 200 bytes, now and then far beyond."""
        r = self.rng.random()
        if r < 0.85:
            return self.rng.randrange(200)
        if r < 0.93:
            return self.rng.choice((0, 31, 32, 224, 1000, 4096))
        return self.rng.choice(FAR_OFFSETS)

    # emitting

    def emit(self, *ops: int, pops: int = 0, pushes: int = 0) -> None:
        self.code.extend(ops)
        self.depth = max(0, self.depth - pops) + pushes

    def push(self, value: int) -> None:
        width = (value.bit_length() + 7) // 8
        if width == 0 and self.rng.random() < 0.5:
            self.emit(PUSH0, pushes=1)
            return
        if self.rng.random() < 0.2:
            width = self.rng.randint(max(width, 1), 32)
        width = max(width, 1)
        self.emit(PUSH1 + width - 1, *value.to_bytes(width, "big"), pushes=1)

    def operands(self, needed: int) -> None:
        """Pushes what ``needed`` stack items lack, but one time in 25 (then it may underflow)."""
        if self.depth < needed and self.rng.random() < 0.96:
            for _ in range(needed - self.depth):
                self.push(self.value())

    def jump(self) -> None:
        kind = self.rng.choices(("valid", "data", "opcode", "end"), (70, 10, 10, 10))[0]
        if kind == "data":  # a 0x5B that is PUSH data, for the jump to land on
            self.emit(PUSH1, JUMPDEST, POP)
        elif kind == "valid":
            self.owed_jumpdests += 1
        conditional = self.rng.random() < 0.5
        if conditional and self.rng.random() < 0.8:
            self.push(self.rng.choice((0, 1, 1, 2**255, UINT_MAX)))
        self.fixups.append((len(self.code) + 1, kind))
        self.emit(PUSH2, 0, 0, pushes=1)
        self.emit(JUMPI if conditional else JUMP, pops=2 if conditional else 1)

    def step(self) -> None:  # noqa: C901 — one branch per letter of the alphabet
        rng = self.rng
        if self.owed_jumpdests and rng.random() < 0.3:
            self.owed_jumpdests -= 1
            self.emit(JUMPDEST)
            return
        kind = rng.choices(list(ALPHABET), list(ALPHABET.values()))[0]
        if kind == "push":
            self.push(self.value())
        elif kind == "dup":
            self.operands(1)
            n = rng.randint(1, 16 if rng.random() < 0.04 else min(16, max(self.depth, 1)))
            self.emit(DUP1 + n - 1, pushes=1 if n <= self.depth else 0)
        elif kind == "swap":
            self.operands(2)
            n = rng.randint(1, 16 if rng.random() < 0.04 else min(16, max(self.depth - 1, 1)))
            self.emit(SWAP1 + n - 1)
        elif kind == "pop":
            self.operands(1)
            self.emit(POP, pops=1)
        elif kind == "binary":
            self.operands(2)
            self.emit(rng.choice(BINARY), pops=2, pushes=1)
        elif kind == "unary":
            self.operands(1)
            self.emit(rng.choice((ISZERO, NOT)), pops=1, pushes=1)
        elif kind == "neighbour":
            self.operands(2)
            self.emit(rng.choice(NEIGHBOURS_BINARY), pops=2, pushes=1)
        elif kind == "jumpdest":
            self.emit(JUMPDEST)
        elif kind == "jump":
            self.jump()
        elif kind == "far jump":
            self.push(rng.choice((2**64, 2**255, UINT_MAX)))
            self.emit(JUMP, pops=1)
        elif kind in ("mstore", "mload", "mstore8", "calldataload"):
            op = {"mstore": MSTORE, "mload": MLOAD, "mstore8": MSTORE8}.get(kind, CALLDATALOAD)
            pops = 2 if op in (MSTORE, MSTORE8) else 1
            if rng.random() < 0.8:  # the value, if any, from the stack; the offset pushed
                self.operands(pops - 1)
                if op == CALLDATALOAD:
                    self.push(rng.randrange(72) if rng.random() < 0.9 else rng.choice(BOUNDARY))
                else:
                    self.push(self.offset())
            else:
                self.operands(pops)
            self.emit(op, pops=pops, pushes=0 if pops == 2 else 1)
        elif kind == "calldata":
            self.emit(rng.choice((CALLDATASIZE, CALLVALUE)), pushes=1)
        elif kind == "storage":  # slots 0-3; a slot set then cleared earns a refund
            slot = rng.randrange(4)
            if rng.random() < 0.4:
                self.push(slot)
                self.emit(SLOAD, pops=1, pushes=1)
            else:
                if rng.random() < 0.3:
                    self.emit(PUSH1, rng.randrange(1, 256), PUSH1, slot, SSTORE)
                    self.push(0)
                else:
                    self.operands(1)
                self.push(slot)
                self.emit(SSTORE, pops=2)
        elif kind == "environment":
            self.emit(rng.choice((MSIZE, PC, GAS, ADDRESS, CALLER)), pushes=1)
        elif kind == "zero bytes":  # py-evm leaves zero as bytes: the node's loop must read them
            self.push(rng.choice((0xFF, 2**64)))  # no such block, blob or contract
            self.emit(rng.choice((BLOCKHASH, EXTCODEHASH, BLOBHASH)), pops=1, pushes=1)
        elif kind == "copy":  # CALLDATACOPY(destOffset, offset, size)
            self.push(rng.randrange(65))
            self.push(rng.randrange(40))
            self.push(self.offset())
            self.emit(CALLDATACOPY, pops=3)
        elif kind == "keccak":
            self.push(rng.randrange(65))
            self.push(self.offset())
            self.emit(KECCAK256, pops=2, pushes=1)
        elif kind == "log":  # LOG1(offset, size, topic)
            self.push(self.value())
            self.push(rng.randrange(65))
            self.push(self.offset())
            self.emit(LOG1, pops=3)
        elif kind == "end":
            op = rng.choice((STOP, RETURN, REVERT))
            if op != STOP:
                self.push(rng.randrange(97))
                self.push(rng.randrange(160))
            self.emit(op, pops=0 if op == STOP else 2)
        elif kind == "invalid":
            self.emit(rng.choice((INVALID, *UNASSIGNED)))
        else:  # past the stack limit: 1,024 items at most
            self.emit(*[PUSH0] * rng.randint(1015, 1030))

    def tail(self) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return  # the implicit STOP at the end of code
        if r < 0.6:  # RETURN what memory holds
            self.emit(PUSH1, rng.choice((32, 64, 96)), PUSH0, RETURN)
        elif r < 0.7:
            self.emit(STOP)
        elif r < 0.8:
            self.emit(PUSH1, rng.choice((0, 32)), PUSH0, REVERT)
        else:  # a PUSH whose data the end of code cuts short
            width = rng.randint(1, 32)
            self.emit(PUSH1 + width - 1, *rng.randbytes(rng.randrange(width)))

    def resolve(self) -> bytes:
        code = bytes(self.code)
        opcodes, data_jumpdests = [], []
        i = 0
        while i < len(code):
            opcodes.append(i)
            if PUSH1 <= code[i] <= PUSH32:
                width = code[i] - PUSH0
                data_jumpdests += [
                    j for j in range(i + 1, i + 1 + width) if code[j : j + 1] == b"\x5b"
                ]
                i += width
            i += 1
        jumpdests = [i for i in opcodes if code[i] == JUMPDEST]
        others = [i for i in opcodes if code[i] != JUMPDEST]
        out = bytearray(code)
        for at, kind in self.fixups:
            forward = [j for j in jumpdests if j > at]
            choices = {
                "valid": forward if forward and self.rng.random() < 0.8 else jumpdests,
                "data": data_jumpdests,
                "opcode": others,
            }.get(kind)
            if choices:
                target = self.rng.choice(choices)
            else:  # past the end of code
                target = min(len(code) + self.rng.choice((0, 1, 7, 300)), 0xFFFF)
            out[at : at + 2] = target.to_bytes(2, "big")
        return bytes(out)


def random_program(rng: Random, name: str) -> Program:
    builder = _Builder(rng)
    builder.push(builder.value())  # never 0xEF first: EIP-3541 refuses such code
    for _ in range(rng.randint(3, 40)):
        builder.step()
    builder.emit(*[JUMPDEST] * builder.owed_jumpdests)
    builder.tail()
    calldata = rng.choice(
        (b"", rng.randbytes(4), rng.randbytes(36), bytes(8) + rng.randbytes(24), rng.randbytes(68))
    )
    return Program(name, builder.resolve(), calldata)


SEEDS = tuple(range(16))
PER_SEED = 30


#: seed → its programs (``Random(seed)``: a failure names the seed and the program's number)
RANDOM_PROGRAMS = {
    seed: [random_program(rng, f"seed {seed} #{n}") for n in range(PER_SEED)]
    for seed, rng in ((seed, Random(seed)) for seed in SEEDS)
}


# -- edge programs ------------------------------------------------------------------------------


def _underflows() -> dict[str, tuple[bytes, str | None]]:
    """Per inline opcode that pops: the opcode with no stack, and with one item too few."""
    found: dict[str, tuple[bytes, str | None]] = {}
    for op, needed in POPS.items():
        for have in {0, needed - 1}:
            code = bytes([PUSH1, 1] * have + [op])
            found[f"underflow {op:#04x} with {have}"] = (code, "InsufficientStack")
    return found


_FULL = bytes([PUSH0] * 1024)
_HUGE = bytes([PUSH32]) + b"\xff" * 32
_ZERO = bytes([PUSH1, 0xFF, BLOCKHASH])  # a block out of reach: its hash is b"", zero as bytes

#: name → (code, the error it ends with at a generous limit: None for success)
EDGES: dict[str, tuple[bytes, str | None]] = {
    **_underflows(),
    # the stack limit: 1,024 items, the 1,025th raises
    "1024 items": (_FULL, None),
    "1025 x PUSH0": (_FULL + bytes([PUSH0]), "FullStack"),
    "1024 then PUSH1": (_FULL + bytes([PUSH1, 1]), "FullStack"),
    "1024 then PUSH32": (_FULL + _HUGE, "FullStack"),
    "1024 then DUP1": (_FULL + bytes([DUP1]), "FullStack"),
    "1024 then DUP16": (_FULL + bytes([DUP1 + 15]), "FullStack"),
    "1024 then SWAP16": (_FULL + bytes([SWAP1 + 15]), None),
    "1024 then CALLDATASIZE": (_FULL + bytes([CALLDATASIZE]), "FullStack"),
    "1024 then CALLVALUE": (_FULL + bytes([CALLVALUE]), "FullStack"),
    "1024 then PC": (_FULL + bytes([PC]), "FullStack"),
    "1024 then truncated PUSH2": (_FULL + bytes([PUSH2, 1]), "FullStack"),
    # PUSH1 1 | JUMPDEST | DUP1 PUSH1 2 JUMP: one more item per round until the stack is full
    "DUP loop": (bytes([PUSH1, 1, JUMPDEST, DUP1, PUSH1, 2, JUMP]), "FullStack"),
    # jumps: to a JUMPDEST, into PUSH data, to another opcode, past the end
    "jump to JUMPDEST": (bytes([PUSH1, 4, JUMP, STOP, JUMPDEST, PUSH1, 7]), None),
    "jump into PUSH data": (
        bytes([PUSH1, 5, JUMP, STOP, PUSH1, JUMPDEST, STOP]),
        "InvalidInstruction",
    ),
    "jump into truncated PUSH data": (
        bytes([PUSH1, 5, JUMP, STOP, PUSH2, JUMPDEST]),
        "InvalidInstruction",
    ),
    "jump to an opcode": (bytes([PUSH1, 3, JUMP, STOP]), "InvalidJumpDestination"),
    "jump to the end": (bytes([PUSH1, 3, JUMP]), "InvalidJumpDestination"),
    "jump past the end": (bytes([PUSH1, 0xFF, JUMP, JUMPDEST]), "InvalidJumpDestination"),
    "jump to 2**256-1": (_HUGE + bytes([JUMP]), "InvalidJumpDestination"),
    "jump to bytes": (bytes([CALLER, JUMP]), "InvalidJumpDestination"),
    "jump to zero bytes": (_ZERO + bytes([JUMP]), "InvalidJumpDestination"),
    "JUMPI taken": (bytes([PUSH1, 1, PUSH1, 6, JUMPI, INVALID, JUMPDEST, PUSH1, 9]), None),
    "JUMPI not taken to anywhere": (bytes([PUSH0, PUSH1, 0xFF, JUMPI, PUSH1, 2]), None),
    "JUMPI into PUSH data": (
        bytes([PUSH1, 1, PUSH1, 7, JUMPI, STOP, PUSH1, JUMPDEST]),
        "InvalidInstruction",
    ),
    "JUMPI on bytes": (bytes([CALLER, PUSH1, 5, JUMPI, INVALID, JUMPDEST, PUSH1, 1]), None),
    "JUMPI on zero bytes": (
        _ZERO
        + bytes([PUSH1, 0xFF, JUMPI, PUSH0, EXTCODEHASH, PUSH1, 0xFF, JUMPI])
        + bytes([PUSH0, BLOBHASH, PUSH1, 0xFF, JUMPI, PUSH1, 1]),
        None,
    ),
    # a PUSH whose data the end of code cuts short: zero-padded on the right
    "truncated PUSH32": (bytes([PUSH32, 1, 2]), None),
    "truncated PUSH2": (bytes([PUSH2, 0xFF]), None),
    "empty PUSH1": (bytes([PUSH1]), None),
    # memory: bytes values, expansion, expansion beyond any gas
    "MSTORE bytes": (
        bytes([CALLER, PUSH1, 3, MSTORE, ADDRESS, MSIZE, MSTORE, PUSH0, MLOAD]),
        None,
    ),
    "MLOAD past memory": (bytes([PUSH2, 0x10, 0, MLOAD, MSIZE]), None),
    "MSTORE at 2**20": (bytes([PUSH1, 1, PUSH3, 0x10, 0, 0, MSTORE]), "OutOfGas"),
    "MSTORE at a calldata word": (bytes([PUSH1, 7, PUSH0, CALLDATALOAD, MSTORE]), "OutOfGas"),
    "MLOAD at 2**256-1": (_HUGE + bytes([MLOAD]), "OutOfGas"),
    "MSTORE at 2**256-1": (bytes([PUSH1, 1]) + _HUGE + bytes([MSTORE]), "OutOfGas"),
    "MSTORE at 2**256-32": (bytes([PUSH1, 1, PUSH1, 0x1F, NOT, MSTORE]), "OutOfGas"),
    "CALLDATALOAD far": (_HUGE + bytes([CALLDATALOAD, PUSH1, 1, CALLDATALOAD]), None),
    # arithmetic on bytes values and at the boundaries
    "bytes arithmetic": (
        bytes([CALLER, DUP1, ADD, CALLER, DUP1, MUL, CALLER, PUSH1, 1, SHR, CALLER, ISZERO])
        + bytes([CALLER, NOT, CALLER, CALLER, SLT, CALLER, PUSH0, DIV, PUSH0]),
        None,
    ),
    "zero bytes arithmetic": (
        _ZERO
        + bytes([ISZERO, PUSH0, EXTCODEHASH, ISZERO, PUSH0, BLOBHASH, NOT, PUSH0, BLOBHASH])
        + bytes([DUP1, ADD, PUSH1, 1])
        + _ZERO
        + bytes([SUB])
        + _ZERO
        + bytes([MLOAD])
        + _ZERO
        + _ZERO
        + bytes([MSTORE])
        + _ZERO
        + bytes([CALLDATALOAD, PUSH0, EXTCODEHASH, PUSH1, 1, SHL]),
        None,
    ),
    "shifts": (
        bytes([PUSH1, 1, PUSH2, 1, 0, SHL, PUSH1, 1, PUSH1, 0xFF, SHL, PUSH1, 0xFF, SHR])
        + _HUGE
        + bytes([PUSH1, 0xFF, SHR]),
        None,
    ),
    "signed": (bytes([PUSH1, 1, PUSH1, 0x7F, NOT, SLT, PUSH1, 1, PUSH1, 0x7F, NOT, SGT]), None),
    "counter": (
        bytes([PUSH0, SLOAD, PUSH1, 1, ADD, DUP1, PUSH0, SSTORE, PUSH0, MSTORE])
        + bytes([PUSH1, 32, PUSH0, RETURN]),
        None,
    ),
    # neither inline nor assigned
    "INVALID": (bytes([PUSH1, 1, INVALID]), "InvalidInstruction"),
    "0x0C": (bytes([PUSH1, 1, 0x0C]), "InvalidInstruction"),
    "0xEF": (bytes([PUSH1, 1, 0xEF]), "InvalidInstruction"),
}

EDGE_PROGRAMS = [
    Program(name, code, calldata=bytes(range(1, 41)), budget=60_000)
    for name, (code, _) in EDGES.items()
]
ALL_PROGRAMS = [p for programs in RANDOM_PROGRAMS.values() for p in programs] + EDGE_PROGRAMS

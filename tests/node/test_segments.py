"""The interpreter's compiled segments (voucher_chain/node/segments.py).

Every program of ``evm_programs`` runs again with both loops on a lab of its own, with each
segment the node's loop calls recorded: the two loops must agree as in ``test_interpreter.py``,
and the runs must reach every way a segment ends — it runs, refuses (too few items, too many,
too little gas), hands back after a memory expansion, or raises — so that agreement covers them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from eth.exceptions import VMError

from tests.node.evm_programs import (
    ADD,
    ALL_PROGRAMS,
    DUP1,
    JUMP,
    JUMPDEST,
    MSTORE,
    POP,
    PUSH1,
    SLOAD,
    SWAP1,
)
from tests.node.interpreter_lab import Lab, assert_alike, deployed_lab
from voucher_chain.node import interpreter, segments
from voucher_chain.node.chain import VoucherChainComputation

COSTS = interpreter.inline_costs(VoucherChainComputation.opcodes)


def compiled(code: bytes, start: int = 0) -> Any:
    targets, pushes = interpreter.analyse(code)
    return segments.compile_segment(code, start, COSTS, targets, pushes)


class Recorder:
    """Wraps every segment the interpreter compiles; counts how each call ended."""

    def __init__(self) -> None:
        self.ends: Counter[str] = Counter()

    def compile(self, *args: Any) -> Any:
        segment = segments.compile_segment(*args)
        if segment is None:
            return None

        def recorded(values: list[Any], gas: int, *rest: Any) -> Any:
            items = len(values)
            try:
                ran = segment(values, gas, *rest)
            except VMError as exc:
                self.ends[f"raised {type(exc).__name__}"] += 1
                raise
            if ran is None:
                if items < segment.need:
                    self.ends["refused: too few items"] += 1
                elif items + segment.peak > 1024:
                    self.ends["refused: too many items"] += 1
                else:
                    assert gas < segment.gas
                    self.ends["refused: too little gas"] += 1
            elif ran[0] < 0:
                self.ends["handed back after an expansion"] += 1
            else:
                self.ends["ran"] += 1
            return ran

        return recorded


@pytest.fixture(scope="module")
def recorded_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Recorder]]:
    recorder = Recorder()
    segments._KEPT.clear()  # every segment compiled (and wrapped) afresh
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(interpreter, "compile_segment", recorder.compile)
            with deployed_lab(tmp_path_factory.mktemp("segments")) as lab:
                for program in ALL_PROGRAMS:
                    lab.runs(program)
                yield lab, recorder
    finally:
        segments._KEPT.clear()  # no wrapped segment outlives the module


def test_every_program_runs_alike_with_segments_recorded(
    recorded_lab: tuple[Lab, Recorder],
) -> None:
    lab, _ = recorded_lab
    for program in ALL_PROGRAMS:
        assert_alike(lab, program)


def test_the_programs_end_segments_every_way(recorded_lab: tuple[Lab, Recorder]) -> None:
    _, recorder = recorded_lab
    print(f"\n{dict(recorder.ends)}")  # the counts, with -s
    for end in (
        "ran",
        "refused: too few items",
        "refused: too many items",
        "refused: too little gas",
        "handed back after an expansion",
        "raised OutOfGas",
        "raised InvalidJumpDestination",
        "raised InvalidInstruction",
    ):
        assert recorder.ends[end] > 0, (end, recorder.ends)
    assert recorder.ends["ran"] > sum(recorder.ends.values()) / 2


def test_a_segment_runs_to_the_next_table_opcode_or_jump() -> None:
    # PUSH1 1 PUSH1 2 ADD | SLOAD ...: the segment stops before SLOAD
    code = bytes([PUSH1, 1, PUSH1, 2, ADD, SLOAD, PUSH1, 9, JUMP, JUMPDEST])
    assert [pc for pc, _ in segments._span(code, 0, COSTS)] == [0, 2, 4]
    # DUP1 PUSH1 9 JUMP: ends with the jump, the JUMPDEST after it is another segment
    assert [pc for pc, _ in segments._span(code, 6, COSTS)] == [6, 8]
    assert compiled(code, 6) is None  # two opcodes: shorter than MIN_OPCODES
    assert segments.MIN_OPCODES == 3


def test_constants_are_folded_and_stack_moves_cost_nothing() -> None:
    # PUSH1 2 PUSH1 3 ADD DUP1 SWAP1 POP PUSH1 0 MSTORE: no temporary, the word is a constant
    code = bytes([PUSH1, 2, PUSH1, 3, ADD, DUP1, SWAP1, POP, PUSH1, 0, MSTORE])
    segment = compiled(code)
    assert " t1 " not in segment.source, segment.source
    assert repr((5).to_bytes(32, "big")) in segment.source
    assert (segment.need, segment.peak) == (0, 2)
    assert segment.gas == sum(
        COSTS[op] for op in (PUSH1, PUSH1, ADD, DUP1, SWAP1, POP, PUSH1, MSTORE)
    )


def test_the_compiled_segments_are_kept_per_code_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(segments, "_KEPT", segments._Kept())
    monkeypatch.setattr(segments, "_MAX_CODES", 2)
    monkeypatch.setattr(segments, "_MAX_SEGMENTS", 3)
    first = segments.segments_for(COSTS, b"\x01")
    assert segments.segments_for(COSTS, b"\x01") is first
    segments.segments_for(COSTS, b"\x02")
    segments.segments_for(COSTS, b"\x03")  # a third code: all forgotten
    assert list(segments._KEPT.codes) == [(id(COSTS), b"\x03")]
    assert segments.segments_for(COSTS, b"\x01") is not first
    code = bytes([PUSH1, 1, DUP1, ADD, POP])
    for _ in range(3):
        assert compiled(code) is not None
    assert segments._KEPT.segments == 3
    compiled(code)  # a fourth segment: all forgotten first
    assert segments._KEPT.segments == 1 and not segments._KEPT.codes

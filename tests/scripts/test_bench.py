"""scripts/bench's verdict over several rounds: the median of the rounds' ratios and the p99 of
every embedded confirm, not one round's figures."""

from __future__ import annotations

import pytest

from scripts.bench import summary
from scripts.bench_workload import Result


def _result(chain: str, orders: int, seconds: float, latency_ms: list[float]) -> Result:
    return Result(
        chain=chain,
        orders=orders,
        seconds=seconds,
        confirm_latencies=[ms / 1000 for ms in latency_ms],
        gas={},
    )


def _round(ours_per_s: float, latency_ms: list[float]) -> list[Result]:
    """A round: Anvil settles 100 orders in 10 s, the embedded node 100 at ``ours_per_s``."""
    return [
        _result("embedded", 100, 100 / ours_per_s, latency_ms),
        _result("anvil", 100, 10.0, [100.0]),
    ]


def test_the_median_round_decides_not_the_best(capsys: pytest.CaptureFixture[str]) -> None:
    summary([_round(12.0, [200.0]), _round(8.0, [200.0]), _round(9.0, [200.0])])
    out = capsys.readouterr().out
    assert "round 1: embedded  12.00/s, anvil  10.00/s, ×1.20" in out
    assert "median ratio ×0.90 (embedded ahead in 1 of 3)" in out
    assert out.rstrip().endswith("NOT MET")


def test_met_when_the_median_is_ahead_and_the_pooled_p99_in_bounds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary([_round(11.0, [300.0] * 99 + [450.0]), _round(10.5, [200.0] * 100)])
    out = capsys.readouterr().out
    assert "median ratio ×1.07 (embedded ahead in 2 of 2)" in out
    assert out.rstrip().endswith(": MET")


def test_the_p99_is_taken_over_every_confirm_of_all_rounds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # one confirm in 200 at 900 ms: the second round's own p99 (nearest rank) would be 900 ms,
    # all rounds' together is 200 ms; two in 200 put it at 900 ms
    summary([_round(11.0, [200.0] * 100), _round(11.0, [200.0] * 99 + [900.0])])
    out = capsys.readouterr().out
    assert "embedded p99 over all rounds 200.0 ms" in out
    assert out.rstrip().endswith(": MET")
    summary([_round(11.0, [200.0] * 99 + [900.0]), _round(11.0, [200.0] * 99 + [900.0])])
    out = capsys.readouterr().out
    assert "embedded p99 over all rounds 900.0 ms" in out
    assert out.rstrip().endswith("NOT MET")


def test_rounds_without_both_chains_print_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    summary([[_result("embedded", 10, 1.0, [100.0])]])
    assert capsys.readouterr().out == ""

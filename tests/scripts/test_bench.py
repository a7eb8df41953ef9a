"""scripts/bench's verdict over several rounds: the median of the rounds' ratios and the p99 of
every embedded confirm, not one round's figures; and its untimed warm-up before each timed run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import cast

import pytest
from web3 import Web3

import scripts.bench as bench_script
from scripts.bench import summary
from scripts.bench_workload import Result
from voucher_chain.contracts import Protocol


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


class _Workload:
    """Stands in for bench_workload.Workload: records what the benchmark asks of it."""

    calls: list[tuple[str, object, int]] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def setup(self, pairs: int, orders: int) -> list[str]:
        self.calls.append(("setup", pairs, orders))
        return [f"pair-{i}" for i in range(pairs)]

    def run(self, chain: str, pairs: list[str], orders: int) -> Result:
        self.calls.append(("run", chain, orders))
        return _result(chain, len(pairs) * orders, 1.0, [100.0])


def test_the_warmup_orders_are_funded_and_settled_before_the_timed_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_script, "Workload", _Workload)
    _Workload.calls = []
    chain = bench_script.Chain(
        w3=Web3(bench_script.CountingProvider("http://127.0.0.1:9")),  # never asked
        protocol=cast(Protocol, None),
        governor_key="0x" + "11" * 32,
        gas_fee=False,
        description="stub",
        pid=os.getpid(),
    )
    args = argparse.Namespace(enterprises=3, orders=5, warmup=2)
    result = bench_script.bench("embedded", chain, args, tmp_path)
    assert _Workload.calls == [
        ("setup", 3, 7),  # funds for the warm-up orders too
        ("run", "embedded-warmup", 2),  # not timed
        ("run", "embedded", 5),  # the result
    ]
    assert result.orders == 15 and result.chain == "embedded"
    _Workload.calls = []
    (tmp_path / "cold").mkdir()  # a keystore of its own
    cold = argparse.Namespace(enterprises=1, orders=4, warmup=0)
    bench_script.bench("embedded", chain, cold, tmp_path / "cold")
    assert _Workload.calls == [("setup", 1, 4), ("run", "embedded", 4)]


def test_a_negative_warmup_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["bench", "--warmup", "-1"])
    with pytest.raises(SystemExit) as exit_:
        bench_script.main()
    assert exit_.value.code == 2

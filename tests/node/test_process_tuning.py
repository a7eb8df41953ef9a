"""The node's own processes — ``voucher-chain node`` and its read workers — tune the
interpreter (garbage collector thresholds, GIL switch interval); a host embedding ``Node`` keeps
its own settings."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from voucher_chain.node import Node, NodeConfig, config, read_pool


def test_tune_switching_sets_the_node_switch_interval() -> None:
    before = sys.getswitchinterval()
    try:
        config.tune_switching()
        assert sys.getswitchinterval() == pytest.approx(config.SWITCH_INTERVAL) == 0.0005
    finally:
        sys.setswitchinterval(before)


def test_a_read_worker_tunes_itself_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []
    monkeypatch.setattr(read_pool, "_Reader", lambda *args: object())
    monkeypatch.setattr(read_pool, "tune_gc", lambda: done.append("gc"))
    monkeypatch.setattr(read_pool, "tune_switching", lambda: done.append("switching"))
    monkeypatch.setattr(read_pool, "_serve", lambda *args: done.append("serve"))
    monkeypatch.setattr(os, "dup2", lambda *args: None)  # keep this process's stdout
    read_pool.worker(["chain.sqlite", "1", "dev"])
    assert done == ["gc", "switching", "serve"]


def test_an_embedded_node_leaves_its_host_interpreter_alone(tmp_path: Any) -> None:
    before = sys.getswitchinterval()
    with Node(NodeConfig(data_dir=tmp_path, dev=True, auto_seal=False)):
        assert sys.getswitchinterval() == before
    assert sys.getswitchinterval() == before

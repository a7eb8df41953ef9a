"""The anvil backend is what it claims: Anvil itself, with the frozen clock the suite relies
on, cleaned up after use. Collected only with the anvil backend (``make pytest-anvil``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.external import anvil as anvil_module
from tests.external.anvil import Anvil, AnvilUnavailable
from tests.world import World


def test_the_chain_under_test_is_anvil(world: World) -> None:
    assert world.w3.client_version.startswith("anvil/v1.7.1")
    assert world.w3.eth.chain_id == 31337


def test_time_travel_then_one_second_per_block(world: World) -> None:
    """The node's frozen clock, which deadline tests rely on (AnvilChainControl)."""
    before = world.w3.eth.block_number
    target = world.now() + 1000
    world.tester.time_travel(target)
    world.deposit(world.enterprise(310000), 1)  # a few transactions, a block each
    numbers = range(before + 1, world.w3.eth.block_number + 1)
    assert len(numbers) >= 3
    stamps = [world.w3.eth.get_block(n)["timestamp"] for n in numbers]
    assert stamps == [target + i for i in range(len(numbers))]


def test_stop_ends_the_process_and_removes_its_home() -> None:
    node = Anvil(accounts=2).start()
    home, pid = node.log.parent, node.pid
    assert node.url.startswith("http://127.0.0.1:")
    node.stop()
    assert not home.exists()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_a_missing_binary_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anvil_module, "ANVIL_BIN", Path(os.devnull) / "anvil")
    with pytest.raises(AnvilUnavailable, match="make anvil-deps"):
        Anvil().start()

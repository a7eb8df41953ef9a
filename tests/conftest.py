"""Shared fixtures: an in-process py-evm chain with the protocol deployed, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_tester import EthereumTester
from web3 import Web3

from tests.world import World
from voucher_chain.contracts import Protocol
from voucher_chain.sandbox import sandbox


@pytest.fixture(scope="session")
def _chain() -> tuple[EthereumTester, Web3, Protocol]:
    deployed = sandbox()
    return deployed.tester, deployed.w3, deployed.p


@pytest.fixture
def world(_chain: tuple[EthereumTester, Web3, Protocol]) -> Iterator[World]:
    """A fresh world per test: the chain is rolled back to just after deployment afterwards."""
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    try:
        yield World(tester=tester, w3=w3, protocol=protocol)
    finally:
        tester.revert_to_snapshot(snapshot)

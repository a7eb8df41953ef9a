"""The audit tests' chain: the embedded node over HTTP JSON-RPC (eth-tester finds receipts and
logs by scanning every block, so a chain of thousands of blocks indexes quadratically there)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from web3 import Web3

from tests.audit.year import Year, simulate_year
from tests.world import World
from voucher_chain.contracts import Protocol
from voucher_chain.sandbox import RpcChainControl


@contextmanager
def node_world(data_dir: Path, accounts: int = 40) -> Iterator[tuple[World, str]]:
    """A dev node (automine, frozen clock) with the protocol deployed, served on a free port:
    the world driving it and the JSON-RPC URL (``data_dir/protocol.json`` has the addresses)."""
    from voucher_chain.node import Node, NodeConfig, RpcServer, ensure_dev_protocol

    node = Node(
        NodeConfig(
            data_dir=data_dir,
            dev=True,
            dev_accounts=accounts,
            automine=True,
            frozen_clock=True,
            synchronous="NORMAL",
        )
    )
    try:
        addresses = ensure_dev_protocol(node)
        server = RpcServer(node, port=0).start()
        try:
            w3 = Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 60}))
            protocol = Protocol.at(w3, addresses)
            yield World(tester=RpcChainControl(w3), w3=w3, protocol=protocol), server.url
        finally:
            server.stop()
    finally:
        node.close()


@pytest.fixture(scope="package")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Year]:
    """The simulated year (tests/audit/year.py), built once for every test that reads it."""
    with node_world(tmp_path_factory.mktemp("node")) as (world, _):
        yield from simulate_year(world, tmp_path_factory.mktemp("year"))

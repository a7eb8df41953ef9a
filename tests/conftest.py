"""Shared fixtures: the protocol deployed on a development chain, rolled back after each test.

The chain is chosen by ``VOUCHER_CHAIN_TEST_BACKEND``:

- ``pyevm`` (default): eth-tester's in-process py-evm chain;
- ``node``: the embedded permissioned node, started in this process and reached over HTTP
  JSON-RPC like any external node (dev accounts, automine, a frozen clock for exact deadlines);
- ``anvil``: Anvil (Foundry), an external node nobody here wrote, in a subprocess
  (tests/external/anvil.py; ``make anvil-deps`` installs it); the protocol is deployed on it by
  the same :func:`voucher_chain.contracts.deploy_protocol` as everywhere else.

The same tests run on every backend: ``make test`` runs tests/contracts on ``node`` too, and
tests/contracts, tests/services, the API's end-to-end test, tests/besu and tests/external on
``anvil`` (``make pytest-anvil``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from tests.world import BACKEND, World
from voucher_chain.contracts import Protocol, deploy_protocol
from voucher_chain.contracts.deploy import DEV_GOVERNOR_CODE
from voucher_chain.sandbox import ChainControl, RpcChainControl, sandbox

#: The external-node harness's own tests need Anvil: collected with that backend only.
collect_ignore_glob = [] if BACKEND == "anvil" else ["external/*"]


def pytest_report_header() -> str:
    return f"chain backend: {BACKEND}"


def _checked_estimate(original: Callable[..., Any]) -> Callable[..., Any]:
    """``eth_estimateGas`` that re-executes the message at the limit it answers and fails the
    request if that is not enough: every estimate of the suite checks the node's one-run bound
    (voucher_chain/node/estimate.py) on the operation at hand."""

    def checked(self: Any, params: list[Any]) -> Any:
        message, block_id = self._message(params)
        with self.node.reading() as chain:  # pinned, should a block come in between
            number = self.node.header_at(chain, block_id).block_number
        answer = original(self, [params[0], hex(number)])
        with self.node.reading() as chain:
            header = self.node.header_at(chain, number)
            run = self.node.execute(chain, header, **{**message, "gas": int(answer, 16)})
        if not run.success:
            raise AssertionError(f"estimate {int(answer, 16)} is not enough: {run.error}")
        return answer

    return checked


def _node_chain(data_dir: Path) -> Iterator[tuple[ChainControl, Web3, Protocol]]:
    from voucher_chain.node import Node, NodeConfig, RpcServer, ensure_dev_protocol
    from voucher_chain.node.rpc import Dispatcher

    node = Node(
        NodeConfig(
            data_dir=data_dir,
            dev=True,
            dev_accounts=80,
            automine=True,
            auto_seal=False,
            frozen_clock=True,
            synchronous="OFF",
        )
    )
    addresses = ensure_dev_protocol(node)
    with pytest.MonkeyPatch.context() as patch:
        # before the server: its dispatcher binds the method when it is made
        patch.setattr(Dispatcher, "_estimate", _checked_estimate(Dispatcher._estimate))
        server = RpcServer(node, port=0).start()
    try:
        w3 = Web3(Web3.HTTPProvider(server.url, request_kwargs={"timeout": 60}))
        yield RpcChainControl(w3), w3, Protocol.at(w3, addresses)
    finally:
        server.stop()
        node.close()


def _anvil_chain() -> Iterator[tuple[ChainControl, Web3, Protocol]]:
    from tests.external.anvil import (
        Anvil,
        AnvilChainControl,
        AnvilUnavailable,
        PendingReadsProvider,
    )

    try:
        anvil = Anvil(accounts=80).start()
    except AnvilUnavailable as exc:
        raise pytest.UsageError(str(exc)) from None
    try:
        w3 = Web3(PendingReadsProvider(anvil.url, request_kwargs={"timeout": 60}))
        protocol = deploy_protocol(
            w3, w3.eth.accounts[0], governor_credit_code_hash=Web3.keccak(text=DEV_GOVERNOR_CODE)
        )
        yield AnvilChainControl(w3), w3, protocol
    finally:
        anvil.stop()


@pytest.fixture(scope="session")
def _chain(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ChainControl, Web3, Protocol]]:
    if BACKEND == "node":
        yield from _node_chain(tmp_path_factory.mktemp("node"))
        return
    if BACKEND == "anvil":
        yield from _anvil_chain()
        return
    deployed = sandbox()
    yield deployed.tester, deployed.w3, deployed.p


@pytest.fixture
def world(_chain: tuple[ChainControl, Web3, Protocol]) -> Iterator[World]:
    """A fresh world per test: the chain is rolled back to just after deployment afterwards."""
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    try:
        yield World(tester=tester, w3=w3, protocol=protocol)
    finally:
        tester.revert_to_snapshot(snapshot)

"""Dev mode's unlocked accounts: the protocol's Python helpers (`transact`, `deploy_protocol`)
work over plain HTTP, as against hardhat or anvil — and permissioning still applies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3RPCError

from voucher_chain.contracts import OrgKind, call, deploy_protocol, transact
from voucher_chain.node import Node, NodeConfig, RpcServer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Web3]]:
    data_dir: Path = tmp_path_factory.mktemp("dev-accounts")
    node = Node(NodeConfig(data_dir=data_dir, dev=True, dev_accounts=4, block_interval=0.01))
    server = RpcServer(node, port=0).start()
    try:
        yield node, Web3(HTTPProvider(server.url))
    finally:
        server.stop()
        node.close()


def test_unlocked_accounts_transact_once_registered(served: tuple[Node, Web3]) -> None:
    node, w3 = served
    governor, issuer, stranger = list(w3.eth.accounts)[:3]
    protocol = deploy_protocol(
        w3, governor, governor_credit_code_hash=Web3.keccak(text="DEV-ACCOUNTS")
    )
    registry = protocol.registry
    node.set_registry(registry.address)  # what --registry / dev deployment do
    with pytest.raises(Web3RPCError, match="not an active account"):
        registry.functions.pause().transact({"from": stranger, "gas": 100_000})
    transact(
        registry.functions.registerOrganisation(
            int(OrgKind.ISSUER), 310000, Web3.keccak(text="ISSUER"), 10, 6510, b"\x00" * 32, issuer
        ),
        governor,
    )
    assert call(registry.functions.isActiveAccount(issuer)) is True
    org_id = call(registry.functions.orgOf(issuer))[0]
    receipt = transact(registry.functions.updateProfile(org_id, 12, 6510, b"\x00" * 32), governor)
    assert receipt["status"] == 1

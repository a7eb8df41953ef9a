"""``voucher-chain besu deploy`` and ``sync-allowlist`` end to end against Anvil, an external
node: the protocol deployed by a governor key file, then Besu's allowlist (a permissions file
and a recording PERM stand-in, since Besu cannot run here) made equal to the registry."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from tests.besu.stub import PermStub, serve
from tests.external.anvil import ANVIL_DEV_KEY
from tests.world import World
from voucher_chain.besu.cli import PASSPHRASE_ENV
from voucher_chain.cli import main
from voucher_chain.contracts import OrgKind, Protocol, call, transact


def test_deploy_then_sync_the_allowlist(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = world.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    key_file = tmp_path / "governor.json"
    keyfile = Account.encrypt(bytes.fromhex(ANVIL_DEV_KEY[2:]), "pass", kdf="pbkdf2", iterations=2)
    key_file.write_text(json.dumps(keyfile))
    deployment = tmp_path / "protocol.json"
    deploy = ["besu", "deploy", "--rpc", url, "--key-file", str(key_file)]
    deploy += ["--governor-credit-code", "MOST-BESU-TEST", "--out", str(deployment)]

    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    assert main(deploy) == 1 and not deployment.exists()
    monkeypatch.setenv(PASSPHRASE_ENV, "pass")
    assert main(deploy) == 0

    protocol = Protocol.at(world.w3, json.loads(deployment.read_text()))
    assert protocol.registry.address != world.p.registry.address  # a second, fresh deployment
    governor = Account.from_key(ANVIL_DEV_KEY).address
    assert call(protocol.registry.functions.organisationCount()) == 1
    assert call(protocol.registry.functions.isActiveAccount(governor)) is True
    enterprise = world.new_account()
    transact(
        protocol.registry.functions.registerOrganisation(
            int(OrgKind.ENTERPRISE),
            310115,
            Web3.keccak(text="ent"),
            20,
            6510,
            b"\0" * 32,
            enterprise,
        ),
        governor,
    )

    permissions = tmp_path / "permissions_config.toml"
    permissions.write_text('accounts-allowlist=["0x' + "ab" * 20 + '"]\nnodes-allowlist=[]\n')
    stub = PermStub(["0x" + "ab" * 20])
    with serve(stub) as node_url:
        sync = ["besu", "sync-allowlist", "--rpc", url, "--deployment", str(deployment)]
        assert main([*sync, "--permissions-file", str(permissions), "--node-rpc", node_url]) == 0
    expected = sorted(a.lower() for a in (governor, enterprise))
    assert sorted(tomllib.loads(permissions.read_text())["accounts-allowlist"]) == expected
    assert tomllib.loads(permissions.read_text())["nodes-allowlist"] == []
    assert sorted(stub.allowlist) == expected
    assert main(sync) == 1  # neither a file nor a node to update

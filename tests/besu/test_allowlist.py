"""Besu's accounts allowlist follows the registry: read from a real chain (the test backend),
written to a permissions file that is parsed back as TOML, and sent as PERM calls to a
recording HTTP stand-in for Besu (Besu itself cannot run on this machine)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest
from web3 import Web3

from tests.besu.stub import PermStub, serve
from tests.world import SHANGHAI, World
from voucher_chain.besu import (
    BesuRpcError,
    active_accounts,
    render_permissions,
    sync_over_rpc,
    write_permissions_file,
)

NODES = (
    'nodes-allowlist=["enode://6f8a80d14311c39f35f516fa664deaaaa13e85b2f7493f37f6144d86991ec0129373'
    '07647bd3b9a82abe2974e1407241d54947bbb39763a4cac9f77166ad92a0@10.0.1.10:30303"]'
)


def _scene(world: World) -> tuple[list[str], list[str]]:
    """Organisations in every state; returns (accounts that may send, accounts that may not)."""
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    second = world.new_account()
    world.send(world.p.registry.functions.addAccount(ent.id, second), world.governor)
    removed = world.new_account()
    world.send(world.p.registry.functions.addAccount(inst.id, removed), world.governor)
    world.send(world.p.registry.functions.removeAccount(removed), world.governor)
    suspended = world.enterprise(SHANGHAI)
    world.send(world.p.registry.functions.suspend(suspended.id, 7), world.governor)
    regulator = world.regulator()
    frozen = world.enterprise(SHANGHAI)
    world.send(world.p.registry.functions.freeze(frozen.id, 9), regulator)
    allowed = [world.governor.account, ent.account, second, inst.account, regulator.account]
    return allowed, [removed, suspended.account, frozen.account, world.new_account()]


def _same(accounts: Sequence[str], expected: Sequence[str]) -> bool:
    return sorted(a.lower() for a in accounts) == sorted(a.lower() for a in expected)


def test_active_accounts_are_exactly_those_the_registry_lets_send(world: World) -> None:
    allowed, refused = _scene(world)
    found = active_accounts(world.p)
    assert _same(found, allowed), found
    assert not {a.lower() for a in refused} & {a.lower() for a in found}
    assert found == sorted(found, key=str.lower)
    extra = world.new_account()
    assert _same(active_accounts(world.p, keep=[extra]), [*allowed, extra])


def test_the_permissions_file_gets_the_registry_and_keeps_the_nodes(
    world: World, tmp_path: Path
) -> None:
    allowed, _ = _scene(world)
    path = tmp_path / "permissions_config.toml"
    stale = "0x" + "ab" * 20
    path.write_text(
        f'# validators of the national network\naccounts-allowlist=[\n  "{stale}",\n'
        f'  "{world.governor.account.lower()}"\n]\n{NODES}\n'
    )
    change = write_permissions_file(path, active_accounts(world.p))
    parsed = tomllib.loads(path.read_text())
    assert _same(parsed["accounts-allowlist"], allowed)
    assert parsed["nodes-allowlist"] == tomllib.loads(NODES)["nodes-allowlist"]
    assert path.read_text().startswith("# validators of the national network\n")
    assert _same(change.removed, [stale])
    assert _same(change.added, [a for a in allowed if a != world.governor.account])
    again = write_permissions_file(path, active_accounts(world.p))
    assert again.added == () and again.removed == ()


def test_a_new_permissions_file_holds_only_the_accounts(tmp_path: Path) -> None:
    path = tmp_path / "besu" / "permissions_config.toml"
    account = Web3.to_checksum_address("0x" + "12" * 20)
    change = write_permissions_file(path, [account])
    assert tomllib.loads(path.read_text()) == {"accounts-allowlist": [account.lower()]}
    assert change.added == (account,)
    assert render_permissions("", []) == "accounts-allowlist=[]\n"


def test_rpc_sync_sends_only_the_difference(world: World) -> None:
    allowed, _ = _scene(world)
    stale = "0x" + "cd" * 20
    stub = PermStub([world.governor.account, stale])
    with serve(stub) as url:
        node = Web3(Web3.HTTPProvider(url))
        change = sync_over_rpc(node, active_accounts(world.p))
        assert _same(stub.allowlist, allowed)
        methods = [method for method, _ in stub.calls]
        assert methods == [
            "perm_getAccountsAllowlist",
            "perm_addAccountsToAllowlist",
            "perm_removeAccountsFromAllowlist",
        ]
        assert _same(stub.calls[1][1][0], [a for a in allowed if a != world.governor.account])
        assert stub.calls[2][1] == [[stale]]
        assert _same(change.removed, [stale])
        stub.calls.clear()
        again = sync_over_rpc(node, active_accounts(world.p))
        assert [method for method, _ in stub.calls] == ["perm_getAccountsAllowlist"]
        assert again.added == () and again.removed == ()


def test_a_node_without_the_perm_api_is_a_clear_error() -> None:
    stub = PermStub(perm_enabled=False)
    with serve(stub) as url, pytest.raises(BesuRpcError, match="--rpc-http-api=...,PERM"):
        sync_over_rpc(Web3(Web3.HTTPProvider(url)), ["0x" + "12" * 20])

"""The QBFT genesis and the committed Besu configuration (deploy/besu/) are consistent: the
genesis is what ``voucher-chain besu genesis`` makes of validators.json, every node file parses
and keeps gas free, and only validators expose PERM, on loopback. (Besu itself cannot run here.)"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from voucher_chain.besu import qbft_extra_data, qbft_genesis
from voucher_chain.cli import main

BESU = Path(__file__).resolve().parents[2] / "deploy" / "besu"

#: A QBFT genesis extraData published in GoQuorum's QBFT test genesis files (4 validators).
QUORUM_VALIDATORS = [
    "0x93917cadbace5dfce132b991732c6cda9bcc5b8a",
    "0x27a97c9aaf04f18f3014c32e036dd0ac76da5f18",
    "0xce412f988377e31f4d0ff12d74df73b51c42d0ca",
    "0x98c1334496614aed49d2e81526d089f7264fed9c",
]
QUORUM_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f85494"
    "93917cadbace5dfce132b991732c6cda9bcc5b8a9427a97c9aaf04f18f3014c32e036dd0ac76da5f1894"
    "ce412f988377e31f4d0ff12d74df73b51c42d0ca9498c1334496614aed49d2e81526d089f7264fed9cc080c0"
)


def test_extra_data_matches_a_published_qbft_genesis() -> None:
    assert qbft_extra_data(QUORUM_VALIDATORS) == QUORUM_EXTRA_DATA


@pytest.mark.parametrize(
    ("validators", "message"),
    [(QUORUM_VALIDATORS[:3], "at least 4"), ([*QUORUM_VALIDATORS, QUORUM_VALIDATORS[0]], "dup")],
    ids=["three", "duplicate"],
)
def test_bad_validator_sets_are_refused(validators: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        qbft_extra_data(validators)


def test_the_committed_genesis_is_generated_from_validators_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = json.loads((BESU / "validators.json").read_text())
    addresses = [v["address"] for v in spec["validators"]]
    committed = json.loads((BESU / "genesis.json").read_text())
    expected = qbft_genesis(
        addresses, chain_id=spec["chain_id"], block_period_seconds=spec["block_period_seconds"]
    )
    assert committed == expected
    config = committed["config"]
    assert config["zeroBaseFee"] is True and config["cancunTime"] == 0
    assert config["qbft"]["blockperiodseconds"] == 1
    out = tmp_path / "genesis.json"
    argv = ["besu", "genesis", "--chain-id", str(spec["chain_id"]), "--out", str(out)]
    for address in addresses:
        argv += ["--validator", address]
    assert main(argv) == 0
    assert json.loads(out.read_text()) == committed
    assert main(["besu", "genesis", "--chain-id", "1", "--validator", addresses[0]]) == 1
    assert "at least 4" in capsys.readouterr().err


def test_every_node_keeps_gas_free_and_perm_on_loopback_validators_only() -> None:
    nodes = {path.stem: tomllib.loads(path.read_text()) for path in (BESU / "nodes").glob("*.toml")}
    validators = sorted(n for n in nodes if n.startswith("validator-"))
    assert len(validators) >= 4 and "rpc-1" in nodes
    for name, node in nodes.items():
        assert node["min-gas-price"] == 0, name
        assert node["genesis-file"] == "/etc/besu/genesis.json", name
        assert node["permissions-nodes-config-file-enabled"] is True, name
        exposes_perm = "PERM" in node["rpc-http-api"]
        assert exposes_perm == (name in validators), name
        if exposes_perm:
            assert node["rpc-http-host"] == "127.0.0.1", name
            assert node["permissions-accounts-config-file-enabled"] is True, name
        else:  # reachable from other hosts: only with the operator's JWT
            for transport in ("http", "ws"):
                assert node[f"rpc-{transport}-authentication-enabled"] is True, name
                assert node[f"rpc-{transport}-authentication-jwt-public-key-file"], name
    permissions = tomllib.loads((BESU / "permissions_config.toml").read_text())
    assert len(permissions["nodes-allowlist"]) == len(nodes)
    assert len(permissions["accounts-allowlist"]) == 1  # the governor, before the first sync

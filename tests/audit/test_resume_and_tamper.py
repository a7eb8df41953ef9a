"""On the embedded node over JSON-RPC: the indexer as a subprocess (``voucher-chain audit
index``) killed with SIGKILL mid-run and restarted loses and duplicates nothing; ``verify``
passes, then catches a tampered index row, a rewritten block hash and a tampered block of the
node's data dir (through the node's own seal check)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from web3 import Web3

from tests.audit.conftest import node_world
from tests.world import DAY, SHANGHAI, SHANGHAI_PUDONG, YUAN, World
from voucher_chain.audit.anomalies import detect
from voucher_chain.audit.db import open_database
from voucher_chain.audit.models import BlockRow, FailedTxRow
from voucher_chain.audit.verify import verify

ORDERS = 25


@pytest.fixture(scope="module")
def node_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str, Path]]:
    data_dir = tmp_path_factory.mktemp("node")
    with node_world(data_dir, accounts=30) as (world, url):
        issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
        program = world.program(issuer, finance)
        ent, inst = world.enterprise(SHANGHAI_PUDONG), world.institution(SHANGHAI_PUDONG)
        world.issue(issuer, program, ent, 500_000 * YUAN)
        world.deposit(ent, 500_000 * YUAN)
        service = world.list_service(inst)
        for _ in range(ORDERS):
            order = world.place(ent, service, program, 5_000 * YUAN, 5_000 * YUAN)
            world.deliver(inst, order)
            world.travel(2 * DAY)
            world.send(world.p.orders.functions.confirm(order), ent)
        # planted: two orders between related parties, sent without a gas estimate so the node
        # mines them as failed transactions (status 0)
        group = Web3.keccak(text="affiliation group")
        kin = world.enterprise(SHANGHAI_PUDONG, affiliation=group)
        lab = world.institution(SHANGHAI_PUDONG, affiliation=group)
        world.issue(issuer, program, kin, 50_000 * YUAN)
        world.deposit(kin, 50_000 * YUAN)
        lab_service = world.list_service(lab)
        for _ in range(2):
            fn = world.p.orders.functions.placeOrder(
                lab_service, 1, program, 5_000 * YUAN, 5_000 * YUAN, world.request_id()
            )
            sent = fn.transact({"from": kin.account, "gas": 1_000_000})
            assert world.w3.eth.wait_for_transaction_receipt(sent)["status"] == 0
        yield world, url, data_dir


def _cursor(db: Path) -> int:
    if not db.exists():
        return -1
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            (value,) = conn.execute("SELECT max(number) FROM audit_blocks").fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return -1
    return -1 if value is None else int(value)


def _index(url: str, data_dir: Path, db: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "voucher_chain.cli", "audit", "index", "--rpc", url]
    command += ["--deployment", str(data_dir / "protocol.json"), "--db", str(db)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _chain_logs(world: World, head: int) -> list[tuple[int, str, int]]:
    addresses = list(world.p.addresses().values())
    logs = world.w3.eth.get_logs({"fromBlock": 0, "toBlock": head, "address": addresses})
    return sorted(
        (int(x["blockNumber"]), x["transactionHash"].to_0x_hex(), int(x["logIndex"])) for x in logs
    )


def test_kill_9_mid_run_then_restart_loses_and_duplicates_nothing(
    node_chain: tuple[World, str, Path], tmp_path: Path
) -> None:
    world, url, data_dir = node_chain
    head = int(world.w3.eth.block_number)
    db = tmp_path / "audit.sqlite3"
    first = _index(url, data_dir, db)
    deadline = time.monotonic() + 120
    while _cursor(db) < 10 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    killed_at = _cursor(db)
    assert first.returncode == -signal.SIGKILL, "the indexer finished before it could be killed"
    assert 0 <= killed_at < head, (killed_at, head)
    second = _index(url, data_dir, db)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err.decode()
    assert f"indexed blocks {killed_at + 1}.." in out.decode()
    with sqlite3.connect(db) as conn:
        stored = conn.execute(
            "SELECT block_number, tx_hash, log_index FROM audit_events"
        ).fetchall()
        raw = conn.execute("SELECT count(*) FROM audit_raw_logs").fetchone()[0]
        blocks = [n for (n,) in conn.execute("SELECT number FROM audit_blocks ORDER BY number")]
    assert blocks == list(range(head + 1))
    assert raw == 0
    assert sorted(stored) == _chain_logs(world, head)  # none missing, none duplicated


def _indexed(world: World, tmp_path: Path) -> Any:
    from voucher_chain.audit.indexer import Indexer

    engine, sessions = open_database(tmp_path / "audit.sqlite3")
    Indexer(world.p, sessions).sync()
    return engine, sessions


def test_failed_related_party_attempts_are_indexed_and_flagged(
    node_chain: tuple[World, str, Path], tmp_path: Path
) -> None:
    world, _, _ = node_chain
    engine, sessions = _indexed(world, tmp_path)
    with sessions() as s:
        failed = s.scalars(select(FailedTxRow)).all()
        found = [a for a in detect(s) if a.rule == "failed_related_party"]
    engine.dispose()
    assert [f.error for f in failed] == ["OrderRelatedParties"] * 2
    assert {f.function for f in failed} == {"placeOrder"}
    [finding] = found
    assert "tried 2 times" in finding.explanation and "OrderRelatedParties" in finding.explanation


def test_verify_passes_then_catches_a_rewritten_block_hash(
    node_chain: tuple[World, str, Path], tmp_path: Path
) -> None:
    world, _, data_dir = node_chain
    engine, sessions = _indexed(world, tmp_path)
    with sessions() as s:
        verdict = verify(s, world.p, data_dir=data_dir)
    assert verdict.ok, verdict.problems
    assert verdict.line().startswith("OK: 1 programs")
    with sessions.begin() as s:
        s.execute(update(BlockRow).where(BlockRow.number == 7).values(hash="0x" + "11" * 32))
    with sessions() as s:
        verdict = verify(s, world.p)
        assert s.scalar(select(BlockRow.hash).where(BlockRow.number == 7)) == "0x" + "11" * 32
    engine.dispose()
    assert any(p.startswith("block 7: indexed 0x1111") for p in verdict.problems), verdict.problems
    assert any(p.startswith("block 8: parent hash does not link") for p in verdict.problems)
    assert verdict.line().startswith("MISMATCH")


def test_verify_catches_a_tampered_block_in_the_node_data_dir(
    node_chain: tuple[World, str, Path], tmp_path: Path
) -> None:
    world, _, data_dir = node_chain
    copy = tmp_path / "node-copy"
    shutil.copytree(data_dir, copy)
    with sqlite3.connect(copy / "chain.sqlite") as conn:
        (signature,) = conn.execute("SELECT signature FROM seals WHERE number = 5").fetchone()
        forged = bytes(signature[:10]) + bytes([signature[10] ^ 1]) + bytes(signature[11:])
        conn.execute("UPDATE seals SET signature = ? WHERE number = 5", (forged,))
    engine, sessions = _indexed(world, tmp_path)
    with sessions() as s:
        verdict = verify(s, world.p, data_dir=copy)
    engine.dispose()
    assert [p for p in verdict.problems if p.startswith("node chain, block 5:")], verdict.problems


def test_cli_verify_exit_codes(node_chain: tuple[World, str, Path], tmp_path: Path) -> None:
    world, url, data_dir = node_chain
    engine, sessions = _indexed(world, tmp_path)
    engine.dispose()
    command = [sys.executable, "-m", "voucher_chain.cli", "audit", "verify", "--rpc", url]
    command += [
        "--deployment",
        str(data_dir / "protocol.json"),
        "--db",
        str(tmp_path / "audit.sqlite3"),
    ]
    ok = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and ok.stdout.strip().splitlines()[-1].startswith("OK:"), ok.stdout
    with sqlite3.connect(tmp_path / "audit.sqlite3") as conn:
        conn.execute("UPDATE audit_programs SET funded = funded + 1")
    bad = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1, bad.stdout
    assert bad.stdout.strip().splitlines()[-1].startswith("MISMATCH: 1 problem(s)"), bad.stdout


def test_cli_export_is_signed_by_the_regulator_and_rechecks(
    node_chain: tuple[World, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voucher_chain.audit import ExportInvalid
    from voucher_chain.audit.export import canonical, check_export
    from voucher_chain.cli import main
    from voucher_chain.contracts import OrgKind
    from voucher_chain.signer import Keystore, LocalSigner, ScryptParams

    world, url, data_dir = node_chain
    keystore = Keystore.create(
        tmp_path / "keys.json", passphrase="export test", scrypt=ScryptParams(n=2**4, r=8, p=1)
    )
    account = keystore.generate(org_id=None, label="regulator")
    world.register(OrgKind.REGULATOR, SHANGHAI, account=account)
    engine, _ = _indexed(world, tmp_path)
    engine.dispose()
    monkeypatch.setenv("VOUCHER_CHAIN_KEYSTORE_PASSPHRASE", "export test")
    chain = ["--rpc", url, "--deployment", str(data_dir / "protocol.json")]
    out = tmp_path / "export.json"
    db = str(tmp_path / "audit.sqlite3")
    export = ["audit", "export", *chain, "--db", db, "--keystore", str(keystore.path)]
    assert main([*export, "--account", account, "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["signer"] == account
    assert main(["audit", "check-export", str(out), *chain]) == 0
    document["document"]["report"]["totals"]["redeemed"] += 1
    out.write_text(json.dumps(document))
    assert main(["audit", "check-export", str(out), *chain]) == 1  # the signature no longer fits
    # A regulator signing figures the chain does not bear out: caught by re-deriving them.
    forged = LocalSigner(keystore).sign_message(account, canonical(document["document"]))
    document["signature"] = "0x" + forged.hex()
    with pytest.raises(ExportInvalid, match="differs"):
        check_export(document, world.p)
    out.write_text(json.dumps(document))
    assert main(["audit", "check-export", str(out), *chain]) == 1
    other = keystore.generate(org_id=None, label="not a regulator")
    assert main([*export, "--account", other, "--out", str(out)]) == 0
    assert main(["audit", "check-export", str(out), *chain]) == 1  # signer is no regulator

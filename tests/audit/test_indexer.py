"""The indexer's policies on the in-process chain: logs it cannot decode are kept raw and
counted, a replayed block is not stored twice, a rewritten chain raises ReorgDetected, a
confirmation depth keeps it behind the head; anomaly thresholds come from TOML and the
environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_typing import HexStr
from sqlalchemy import func, select

from tests.world import DAY, SHANGHAI, SHANGHAI_PUDONG, YUAN, World
from voucher_chain.audit import ReorgDetected
from voucher_chain.audit.config import load_config
from voucher_chain.audit.db import open_database
from voucher_chain.audit.indexer import Indexer
from voucher_chain.audit.models import BlockRow, EventRow, RawLogRow


def _indexer(world: World, tmp_path: Path, **kw: int) -> Indexer:
    _, sessions = open_database(tmp_path / "audit.sqlite3")
    return Indexer(world.p, sessions, **kw)


def test_a_foreign_log_is_kept_raw_and_counted(world: World, tmp_path: Path) -> None:
    # Creation code that only emits LOG0 (PUSH1 0 PUSH1 0 LOG0 STOP): a log from a non-protocol
    # address.
    sent = world.w3.eth.send_transaction(
        {"from": world.governor.account, "data": HexStr("0x60006000a000")}
    )
    receipt = world.w3.eth.wait_for_transaction_receipt(sent)
    result = _indexer(world, tmp_path).sync()
    assert result.raw_logs == 1
    indexer = _indexer(world, tmp_path)
    with indexer.sessions() as s:
        [raw] = s.scalars(select(RawLogRow)).all()
        assert raw.block_number == receipt["blockNumber"]
        assert "not a protocol contract" in raw.reason
        assert raw.topics == '{"t":[]}'


def test_replay_stores_nothing_twice(world: World, tmp_path: Path) -> None:
    world.issuer(SHANGHAI)
    indexer = _indexer(world, tmp_path)
    first = indexer.sync()
    assert first.events > 0
    with indexer.sessions() as s:
        events = s.scalar(select(func.count()).select_from(EventRow))
    again = indexer.sync(0)  # a request to index from genesis again: all stored already
    assert again.blocks == 0
    with indexer.sessions() as s:
        assert s.scalar(select(func.count()).select_from(EventRow)) == events


def test_a_rewritten_chain_raises_reorg_detected(world: World, tmp_path: Path) -> None:
    snapshot = world.tester.take_snapshot()
    world.issuer(SHANGHAI)
    indexer = _indexer(world, tmp_path)
    indexer.sync()
    replaced = int(world.w3.eth.block_number)
    world.tester.revert_to_snapshot(snapshot)
    world.finance(SHANGHAI)  # another block at the same height
    world.finance(SHANGHAI)
    with pytest.raises(ReorgDetected) as info:
        indexer.sync()
    assert info.value.number == replaced
    assert info.value.stored_hash != info.value.chain_hash


def test_confirmations_keep_the_indexer_behind_the_head(world: World, tmp_path: Path) -> None:
    world.issuer(SHANGHAI)
    indexer = _indexer(world, tmp_path, confirmations=2)
    indexer.sync()
    with indexer.sessions() as s:
        top = s.scalar(select(func.max(BlockRow.number)))
    assert top == world.w3.eth.block_number - 2


def test_thresholds_from_toml_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_config().split_min_orders == 3
    toml = tmp_path / "anomalies.toml"
    toml.write_text("[anomalies]\nsplit_min_orders = 5\nconcentration_share = 0.8\n")
    assert load_config(toml).split_min_orders == 5
    monkeypatch.setenv("VOUCHER_CHAIN_AUDIT_CONCENTRATION_SHARE", "0.9")
    assert load_config().concentration_share == 0.9
    toml.write_text("no_such_rule = 1\n")
    with pytest.raises(ValueError, match="no_such_rule"):
        load_config(toml)


def test_cli_reports_and_anomalies(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voucher_chain.audit.cli import REPORTS
    from voucher_chain.cli import main

    issuer = world.issuer(SHANGHAI)
    program = world.program(issuer, world.finance(SHANGHAI))
    ent, inst = world.enterprise(SHANGHAI_PUDONG), world.institution(SHANGHAI_PUDONG)
    world.issue(issuer, program, ent, 5_000 * YUAN)
    world.deposit(ent, 5_000 * YUAN)
    order = world.place(
        ent, world.list_service(inst, price=6_000 * YUAN), program, 3_000 * YUAN, 3_000 * YUAN
    )
    world.deliver(inst, order)
    world.travel(DAY)
    world.send(world.p.orders.functions.confirm(order), ent)
    _indexer(world, tmp_path).sync()
    db = str(tmp_path / "audit.sqlite3")
    for name in REPORTS:
        for fmt in ("json", "csv", "table"):
            assert main(["audit", "report", name, "--db", db, "--format", fmt]) == 0
            assert capsys.readouterr().out.strip(), (name, fmt)
    assert main(["audit", "report", "summary", "--db", db, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("scope,programs,budget") and lines[1].startswith("total,1,")
    assert main(["audit", "anomalies", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == "0 finding(s)"  # ¥6,000 in a day: plausible


def test_an_index_of_another_schema_is_refused_by_name(tmp_path: Path) -> None:
    import sqlite3

    from voucher_chain.audit import AuditError

    db = tmp_path / "old.sqlite3"
    open_database(db)[0].dispose()
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE audit_services DROP COLUMN listed_price")
    with pytest.raises(AuditError, match="audit_services lacks listed_price"):
        open_database(db)

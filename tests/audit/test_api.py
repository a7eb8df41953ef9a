"""The regulator's /audit API over a real HTTP server on a chain with one settled order: every
endpoint answers regulators with figures that match the chain, CSV and tables render, the
explorer walks block → transaction → events, an export is signed and re-checks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from tests.api.conftest import Scene, build_scene, create_program
from tests.api.test_end_to_end import PRICE, _issue, _order, _service
from tests.world import SHANGHAI, YUAN, World
from voucher_chain.audit.export import check_export
from voucher_chain.contracts import call


@pytest.fixture
def settled(world: World, tmp_path: Path) -> Iterator[tuple[Scene, int]]:
    for scene in build_scene(world.tester, world.w3, world.p, tmp_path):
        program_id = create_program(scene, spend_regions=[SHANGHAI])
        _issue(scene, program_id, 20_000 * YUAN)
        service_id = _service(scene)
        scene.world.deposit(scene.orgs["enterprise"], PRICE)
        order_id = _order(scene, service_id, program_id, "audit-order")["body"]["id"]  # type: ignore[index]
        with scene.client("institution") as inst:
            inst.post(f"/orders/{order_id}/accept").raise_for_status()
            digest = Web3.keccak(text="report").to_0x_hex()
            inst.post(f"/orders/{order_id}/deliver", json={"deliverable_hash": digest})
        with scene.client("enterprise", **{"Idempotency-Key": "audit-confirm"}) as ent:
            ent.post(f"/orders/{order_id}/confirm").raise_for_status()
        yield scene, program_id


def test_reports_match_the_contracts_and_render(settled: tuple[Scene, int]) -> None:
    scene, program_id = settled
    state = call(scene.world.p.programs.functions.state(program_id))
    with scene.client("regulator") as reg:
        summary = reg.get("/audit/reports/summary").json()
        assert summary["indexed_block"] == scene.world.w3.eth.block_number
        [program] = [p for p in summary["programs"] if p["program_id"] == program_id]
        assert program["funded"] == state[3] and program["paid"] == state[5]
        assert program["issued"] == state[7] and program["redeemed"] == PRICE // 2
        assert program["escrowed"] == call(scene.world.p.programs.functions.escrowed(program_id))
        assert program["usage_rate"] == pytest.approx((PRICE // 2) / (20_000 * YUAN))
        flows = reg.get("/audit/reports/flows").json()["data"]
        assert flows == [
            {
                "issuer_region": SHANGHAI,
                "institution_region": SHANGHAI,
                "orders": 1,
                "voucher_paid": PRICE // 2,
            }
        ]
        monthly = reg.get("/audit/reports/monthly").json()["data"]
        assert sum(m["used"] for m in monthly) == PRICE // 2
        latency = reg.get("/audit/reports/latency").json()
        assert latency["order_to_payment"]["count"] == 1
        institutions = reg.get("/audit/reports/institutions").json()["data"]
        assert [i["institution_org"] for i in institutions] == [scene.orgs["institution"].id]
        assert reg.get("/audit/reports/categories").json()["data"][0]["settled"] == 1
        sizes = reg.get("/audit/reports/enterprises").json()["by_size"]
        assert sum(b["enterprises"] for b in sizes) == 1
        text = reg.get("/audit/reports/summary", params={"format": "csv"})
        assert text.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(text.text)))
        assert [r["scope"] for r in rows][:1] == ["total"]
        assert int(rows[0]["redeemed"]) == PRICE // 2
        table = reg.get("/audit/reports/flows", params={"format": "table"}).text
        assert "issuer_region" in table.splitlines()[0] and str(SHANGHAI) in table
        assert (
            reg.get("/audit/reports/summary", params={"program_id": 999}).json()["programs"] == []
        )
        # ¥10,000 placed, delivered and confirmed within seconds: too fast for its amount.
        found = reg.get("/audit/anomalies").json()
        assert [a["rule"] for a in found["data"]] == ["fast_confirmation"]
        assert "¥10,000.00" in found["data"][0]["explanation"]


def test_explorer_walks_block_transaction_events(settled: tuple[Scene, int]) -> None:
    scene, _ = settled
    with scene.client("regulator") as reg:
        status = reg.get("/audit/status").json()
        assert status["lag_blocks"] == 0 and status["raw_logs"] == 0 and status["events"] > 0
        blocks = reg.get("/audit/blocks", params={"limit": 3}).json()
        top = blocks["data"][0]
        assert top["number"] == status["indexed_block"] and blocks["count"] == top["number"] + 1
        detail: dict[str, Any] = reg.get(f"/audit/blocks/{top['number']}").json()
        [tx] = detail["transactions"]
        names = [e["name"] for e in tx["events"]]
        assert "OrderSettled" in names and "VouchersRedeemed" in names
        again = reg.get(f"/audit/transactions/{tx['tx_hash']}").json()
        assert again["events"] == tx["events"]
        assert reg.get("/audit/blocks/99999999").status_code == 404
        assert reg.get("/audit/transactions/0x" + "00" * 32).json()["code"] == "NotFound"


def test_export_is_signed_anchored_and_rechecks(settled: tuple[Scene, int]) -> None:
    scene, program_id = settled
    with scene.client("regulator") as reg:
        created = reg.post("/audit/exports", json={"program_id": program_id})
    assert created.status_code == 201, created.text
    export = created.json()
    assert export["signer"] == scene.orgs["regulator"].account
    anchor = export["document"]["anchor"]
    assert anchor["hash"] == scene.world.w3.eth.get_block(anchor["block"])["hash"].to_0x_hex()
    assert "OK" in check_export(export, scene.world.p)

"""The wallet's history, the dispute queue and the category list, over the real server."""

from __future__ import annotations

from web3 import Web3

from tests.api.conftest import Scene, create_program
from tests.api.test_end_to_end import PRICE, _issue, _order, _service
from tests.world import SHANGHAI, YUAN
from voucher_chain.contracts import DEFAULT_CATEGORIES, OrderState


def test_voucher_history_lists_issuance_and_redemption_with_transactions(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    _issue(scene, program_id, 20_000 * YUAN)
    service_id = _service(scene)
    scene.world.deposit(scene.orgs["enterprise"], PRICE)
    placed = _order(scene, service_id, program_id, "history-order")
    order_id = placed["body"]["id"]  # type: ignore[index]
    with scene.client("institution") as inst:
        inst.post(f"/orders/{order_id}/accept").raise_for_status()
        digest = Web3.keccak(text="report").to_0x_hex()
        inst.post(f"/orders/{order_id}/deliver", json={"deliverable_hash": digest})
    with scene.client("enterprise", **{"Idempotency-Key": "history-confirm"}) as ent:
        ent.post(f"/orders/{order_id}/confirm").raise_for_status()
        history = ent.get("/vouchers/history").json()
    moves = [(m["kind"], m["program_id"], m["value"]) for m in history["data"]]
    assert moves == [
        ("issued", program_id, 20_000 * YUAN),
        ("redeemed", program_id, PRICE // 2),
    ]
    assert all(m["tx"]["tx_hash"].startswith("0x") for m in history["data"])
    ent_id = scene.orgs["enterprise"].id
    with scene.client("regulator") as reg:
        assert reg.get(f"/vouchers/history?org_id={ent_id}").json() == history
    with scene.client("institution") as inst:
        assert inst.get("/vouchers/history").status_code == 403


def test_dispute_queue_shows_the_parties_and_the_arbiter(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    _issue(scene, program_id, 20_000 * YUAN)
    service_id = _service(scene)
    scene.world.deposit(scene.orgs["enterprise"], PRICE)
    order_id = _order(scene, service_id, program_id, "dispute-order")["body"]["id"]  # type: ignore[index]
    with scene.client("institution") as inst:
        inst.post(f"/orders/{order_id}/accept").raise_for_status()
        assert inst.get("/disputes").json()["count"] == 0
    reason = Web3.keccak(text="late").to_0x_hex()
    with scene.client("enterprise", **{"Idempotency-Key": "dispute-1"}) as ent:
        disputed = ent.post(f"/orders/{order_id}/dispute", json={"reason_hash": reason})
        assert disputed.json()["state"] == OrderState.DISPUTED, disputed.text
    for role in ("enterprise", "institution", "issuer", "regulator"):
        with scene.client(role) as http:
            queue = http.get("/disputes").json()
            assert [o["id"] for o in queue["data"]] == [order_id], role
    with scene.client("finance") as fin:
        assert fin.get("/disputes").json() == {"data": [], "count": 0}


def test_categories_are_the_governors_list(scene: Scene) -> None:
    with scene.client("enterprise") as ent:
        listed = ent.get("/categories").json()
        refused = ent.post("/categories", json={"name": "hardware"})
    assert [c["name"] for c in listed["data"]] == list(DEFAULT_CATEGORIES)
    assert refused.status_code == 403 and refused.json()["code"] == "Forbidden"

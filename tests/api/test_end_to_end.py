"""End to end over a real HTTP server: login by signature → program → issue → wallet → order
with own funds → deliver → confirm → the institution's settlement shows at once."""

from __future__ import annotations

from web3 import Web3

from tests.api.conftest import Scene, create_program
from tests.world import BEIJING, SHANGHAI, YUAN
from voucher_chain.contracts import Category, OrderState, OrgKind

PRICE = 10_000 * YUAN


def _issue(scene: Scene, program_id: int, units: int) -> None:
    ent = scene.orgs["enterprise"]
    with scene.client("issuer", **{"Idempotency-Key": f"issue-{program_id}"}) as issuer:
        issued = issuer.post(
            f"/programs/{program_id}/issue", json={"enterprise_org": ent.id, "units": units}
        )
        assert issued.status_code == 201, issued.text
        assert issued.json()["value"] == units


def _service(scene: Scene, role: str = "institution") -> int:
    with scene.client(role) as inst:
        listed = inst.post(
            "/services",
            json={"category": int(Category.TESTING), "price": PRICE, "name": "EMC testing"},
        )
        assert listed.status_code == 201, listed.text
        return int(listed.json()["id"])


def _order(scene: Scene, service_id: int, program_id: int, key: str) -> dict[str, object]:
    with scene.client("enterprise", **{"Idempotency-Key": key}) as ent:
        placed = ent.post(
            "/orders",
            json={
                "service_id": service_id,
                "program_id": program_id,
                "units": PRICE // 2,
                "own_funds": PRICE // 2,
            },
        )
    return {"status": placed.status_code, "body": placed.json()}


def test_issue_order_deliver_confirm_settles_at_once(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    _issue(scene, program_id, 20_000 * YUAN)
    with scene.client("enterprise") as ent:
        wallet = ent.get("/vouchers").json()
    assert wallet["count"] == 1
    [balance] = wallet["data"]
    assert balance["program_id"] == program_id and balance["value"] == 20_000 * YUAN
    assert balance["spend_regions"] == [SHANGHAI] and balance["expiry"] > 0

    service_id = _service(scene)
    scene.world.deposit(scene.orgs["enterprise"], PRICE)
    placed = _order(scene, service_id, program_id, "order-1")
    assert placed["status"] == 201, placed
    order_id = placed["body"]["id"]  # type: ignore[index]

    with scene.client("institution") as inst:
        assert inst.post(f"/orders/{order_id}/accept").status_code == 200
        digest = Web3.keccak(text="EMC report").to_0x_hex()
        delivered = inst.post(f"/orders/{order_id}/deliver", json={"deliverable_hash": digest})
        assert delivered.json()["state"] == OrderState.DELIVERED, delivered.text
        assert inst.get("/settlements").json() == {"data": [], "count": 0}

    with scene.client("enterprise", **{"Idempotency-Key": "confirm-1"}) as ent:
        confirmed = ent.post(f"/orders/{order_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    settlement = confirmed.json()
    assert settlement["voucher_value"] == PRICE // 2 and settlement["own_funds"] == PRICE // 2

    with scene.client("institution") as inst:
        paid = inst.get("/settlements").json()
        me = inst.get("/organisations/me").json()
        settled = inst.get("/orders", params={"state": "settled"}).json()
    assert paid["count"] == 1
    assert paid["data"][0]["order_id"] == order_id
    assert paid["data"][0]["tx"]["tx_hash"] == settlement["tx"]["tx_hash"]
    assert paid["data"][0]["paid_at"] >= scene.world.now() - 60
    assert me["settlement_balance"] == PRICE
    assert [o["id"] for o in settled["data"]] == [order_id]


def test_cross_region_refused_then_allowed_as_the_program_says(scene: Scene) -> None:
    beijing_inst = scene.custodial(OrgKind.INSTITUTION, BEIJING, accredit=True)
    scene.tokens["beijing"] = scene.login(beijing_inst.account)
    service_id = _service(scene, "beijing")
    scene.world.deposit(scene.orgs["enterprise"], 2 * PRICE)

    shanghai_only = create_program(scene, spend_regions=[SHANGHAI])
    _issue(scene, shanghai_only, PRICE)
    refused = _order(scene, service_id, shanghai_only, "x-region-1")
    assert refused["status"] == 422
    body = refused["body"]
    assert body["code"] == "ProgramRegionNotAllowed"  # type: ignore[index]
    assert body["details"]["institutionRegion"] == BEIJING  # type: ignore[index]
    assert "message" in body  # type: ignore[operator]

    both = create_program(scene, spend_regions=[SHANGHAI, BEIJING])
    _issue(scene, both, PRICE)
    allowed = _order(scene, service_id, both, "x-region-2")
    assert allowed["status"] == 201, allowed

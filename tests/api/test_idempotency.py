"""Idempotency-Key: ten identical confirms in parallel pay once and answer alike; a reused key
with another body is refused; a value-moving request without a key is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2
from web3 import Web3

from tests.api.conftest import Scene, create_program
from tests.world import SHANGHAI, YUAN
from voucher_chain.contracts import Category

PRICE = 10_000 * YUAN


def _delivered_order(scene: Scene) -> int:
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    ent = scene.orgs["enterprise"]
    with scene.client("issuer", **{"Idempotency-Key": "issue"}) as issuer:
        issued = issuer.post(
            f"/programs/{program_id}/issue", json={"enterprise_org": ent.id, "units": PRICE}
        )
        assert issued.status_code == 201, issued.text
    scene.world.deposit(ent, PRICE)
    with scene.client("institution") as inst:
        service = inst.post(
            "/services", json={"category": int(Category.TESTING), "price": PRICE, "name": "EMC"}
        ).json()["id"]
    with scene.client("enterprise", **{"Idempotency-Key": "place"}) as http:
        order = http.post(
            "/orders",
            json={
                "service_id": service,
                "program_id": program_id,
                "units": PRICE // 2,
                "own_funds": PRICE // 2,
            },
        )
        assert order.status_code == 201, order.text
    order_id = int(order.json()["id"])
    with scene.client("institution") as inst:
        inst.post(f"/orders/{order_id}/accept").raise_for_status()
        digest = Web3.keccak(text="report").to_0x_hex()
        inst.post(f"/orders/{order_id}/deliver", json={"deliverable_hash": digest})
    return order_id


def test_ten_parallel_confirms_with_one_key_settle_once(scene: Scene) -> None:
    order_id = _delivered_order(scene)
    inst = scene.orgs["institution"]
    before = scene.world.balance(inst)

    def confirm(_: int) -> httpx2.Response:
        with scene.client("enterprise", **{"Idempotency-Key": "confirm-once"}) as http:
            return http.post(f"/orders/{order_id}/confirm")

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(confirm, range(10)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    assert scene.world.balance(inst) - before == PRICE
    settled = scene.world.p.orders.events.OrderSettled.get_logs(
        from_block=0, argument_filters={"orderId": order_id}
    )
    assert len(settled) == 1
    with scene.client("institution") as http:
        assert http.get("/settlements").json()["count"] == 1


def test_same_key_with_another_body_is_refused(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI], budget=1000 * YUAN)
    scene.world.deposit(scene.orgs["finance"], 100)
    with scene.client("finance", **{"Idempotency-Key": "fund-twice"}) as http:
        first = http.post(f"/programs/{program_id}/fund", json={"amount": 50})
        again = http.post(f"/programs/{program_id}/fund", json={"amount": 50})
        other = http.post(f"/programs/{program_id}/fund", json={"amount": 51})
    assert first.status_code == 200 and again.content == first.content
    assert other.status_code == 422 and other.json()["code"] == "IdempotencyKeyReused"
    with scene.client("finance") as http:
        status = http.get(f"/programs/{program_id}/status").json()
    assert status["funded"] == 1000 * YUAN + 50


def test_value_moving_request_without_a_key_is_refused(scene: Scene) -> None:
    with scene.client("enterprise") as http:
        refused = http.post("/orders/1/confirm")
    assert refused.status_code == 428
    assert refused.json()["code"] == "IdempotencyKeyMissing"

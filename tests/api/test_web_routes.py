"""The routes the web apps needed: the application queue, closing a program, an order's steps,
the self-custody relay template and accreditation — each over the real server."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from tests.api.conftest import Scene, create_program
from tests.api.test_end_to_end import PRICE, _issue, _order, _service
from tests.world import BEIJING, SHANGHAI, SHANGHAI_PUDONG, YUAN
from voucher_chain.contracts import Category, OrgKind
from voucher_chain.signer import build_forward_request


def test_the_application_queue_shows_each_role_its_own(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    other = scene.custodial(OrgKind.ENTERPRISE, SHANGHAI_PUDONG)
    for who, key in ((scene.orgs["enterprise"], "a1"), (other, "a2")):
        token = scene.login(who.account)
        with scene.client(Authorization=f"Bearer {token}", **{"Idempotency-Key": key}) as http:
            applied = http.post("/applications", json={"program_id": program_id, "units": 100})
            assert applied.status_code == 201, applied.text
    with scene.client("enterprise") as http:
        mine = http.get("/applications").json()
    assert [a["enterprise_org"] for a in mine["data"]] == [scene.orgs["enterprise"].id]
    with scene.client("issuer") as http:
        queue = http.get("/applications?status=pending").json()
        assert queue["count"] == 2
        first = queue["data"][0]["id"]
        approve = http.post(f"/applications/{first}/approve", headers={"Idempotency-Key": "ap"})
        assert approve.status_code == 200, approve.text
        assert http.get("/applications?status=pending").json()["count"] == 1
        assert [a["id"] for a in http.get("/applications?status=approved").json()["data"]] == [
            first
        ]
        assert http.get("/applications?status=lost").status_code == 422
    with scene.client("finance") as http:  # neither applicant nor the program's issuer
        assert http.get("/applications").json() == {"data": [], "count": 0}
    with scene.client("regulator") as http:
        assert http.get("/applications").json()["count"] == 2


def test_a_program_closes_only_after_its_deadline(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI], budget=1_000 * YUAN)
    headers = {"Idempotency-Key": "close-early"}
    with scene.client("issuer", **headers) as http:
        early = http.post(f"/programs/{program_id}/close")
    assert early.status_code == 409 and early.json()["code"] == "ProgramNotEnded"
    scene.world.travel(331 * 86400)
    with scene.client("issuer", **{"Idempotency-Key": "close"}) as http:
        closed = http.post(f"/programs/{program_id}/close")
        assert closed.status_code == 200, closed.text
        assert closed.json()["tx_hash"].startswith("0x")
        status = http.get(f"/programs/{program_id}/status").json()
    assert status["closed"] and status["returned"] == 1_000 * YUAN and status["escrowed"] == 0
    with scene.client("enterprise", **{"Idempotency-Key": "close-ent"}) as http:
        assert http.post(f"/programs/{program_id}/close").json()["code"] == "Forbidden"


def test_an_orders_steps_carry_their_transactions(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    _issue(scene, program_id, 20_000 * YUAN)
    scene.world.deposit(scene.orgs["enterprise"], PRICE)
    order = _order(scene, _service(scene), program_id, "steps")["body"]
    order_id = order["id"]  # type: ignore[index]
    with scene.client("institution") as inst:
        accepted = inst.post(f"/orders/{order_id}/accept").json()
        delivered = inst.post(
            f"/orders/{order_id}/deliver", json={"deliverable_hash": "0x" + "ab" * 32}
        ).json()
        steps = inst.get(f"/orders/{order_id}/steps").json()
    assert [s["step"] for s in steps] == ["Placed", "Accepted", "Delivered"]
    assert [s["tx"]["tx_hash"] for s in steps] == [
        order["tx"]["tx_hash"],  # type: ignore[index]
        accepted["tx"]["tx_hash"],
        delivered["tx"]["tx_hash"],
    ]
    block = scene.world.w3.eth.get_block(steps[2]["tx"]["block_number"])
    assert steps[2]["at"] == block["timestamp"]
    with scene.client("finance") as http:  # not a party: no such order for it
        assert http.get(f"/orders/{order_id}/steps").status_code == 404


def test_the_relay_template_is_what_a_wallet_signs(scene: Scene) -> None:
    wallet = Account.create()
    scene.world.register(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, account=wallet.address)
    token = _login(scene, wallet)
    with scene.client(Authorization=f"Bearer {token}") as http:
        template = http.get("/relay/template").json()
    p = scene.world.p
    expected = build_forward_request(
        p.forwarder, wallet.address, p.programs.address, b"", gas=1, deadline=1
    )
    assert template["domain"] == expected["domain"] and template["types"] == expected["types"]
    assert template["account"] == wallet.address and template["nonce"] == 0
    assert template["contracts"] == {"programs": p.programs.address, "orders": p.orders.address}
    assert abs(template["chain_time"] - scene.world.now()) <= 2


def test_accreditation_is_read_by_members_and_set_by_the_regional_issuer(scene: Scene) -> None:
    inst = scene.orgs["institution"].id
    mask = Category.mask(Category.TESTING, Category.NOVELTY_SEARCH)
    with scene.client("issuer") as http:
        saved = http.put(f"/accreditations/{inst}", json={"categories": mask})
        assert saved.status_code == 200, saved.text
    with scene.client("enterprise") as http:
        assert http.get(f"/accreditations/{inst}").json()["categories"] == mask
        assert http.get(f"/accreditations/{scene.orgs['enterprise'].id}").status_code == 404
    beijing = scene.custodial(OrgKind.ISSUER, BEIJING)
    token = scene.login(beijing.account)
    with scene.client(Authorization=f"Bearer {token}") as http:
        outside = http.put(f"/accreditations/{inst}", json={"categories": 1})
    assert outside.status_code == 403 and outside.json()["code"] == "CatalogueOutsideJurisdiction"


def _login(scene: Scene, wallet: LocalAccount) -> str:
    """A token for a self-custody key: the challenge signed with it (EIP-191)."""
    with scene.client() as http:
        challenge = http.post("/auth/challenge", json={"account": wallet.address}).json()
        signed = Account.sign_message(encode_defunct(text=challenge["text"]), wallet.key)
        body = {"challenge_id": challenge["challenge_id"], "signature": signed.signature.hex()}
        return str(http.post("/auth/token", json=body).json()["access_token"])


def test_an_institution_reprices_and_withdraws_its_own_service(scene: Scene) -> None:
    service_id = _service(scene)
    with scene.client("institution") as http:
        repriced = http.patch(f"/services/{service_id}", json={"price": 2 * PRICE, "active": True})
        assert repriced.status_code == 200, repriced.text
        assert repriced.json()["price"] == 2 * PRICE
        withdrawn = http.patch(f"/services/{service_id}", json={"price": PRICE, "active": False})
        assert withdrawn.json()["active"] is False
        assert (
            http.patch(f"/services/{service_id}", json={"price": 0, "active": True}).status_code
            == 422
        )
        assert service_id not in [s["id"] for s in http.get("/services").json()["data"]]
    other = scene.custodial(OrgKind.INSTITUTION, SHANGHAI_PUDONG, accredit=True)
    with scene.client(Authorization=f"Bearer {scene.login(other.account)}") as http:
        stolen = http.patch(f"/services/{service_id}", json={"price": 1, "active": True})
    assert stolen.status_code == 403 and stolen.json()["code"] == "CatalogueNotServiceOwner"

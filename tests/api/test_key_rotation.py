"""Accounts over the real HTTP server: rotating a key strands nothing (the vouchers sit in the
organisation's vault), the old key is refused everywhere, the new one logs in and spends them;
adding and removing accounts, custodial or self-custody, under the registry's rules."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from tests.api.conftest import Scene, create_program, fund_gas
from tests.world import SHANGHAI, YUAN, reverts
from voucher_chain.contracts import Category, call
from voucher_chain.signer import KeyStatus

PRICE = 10_000 * YUAN


def _token_for(scene: Scene, account: str, private_key: bytes) -> tuple[int, dict[str, str]]:
    """Logs ``account`` in with ``private_key`` (not the keystore): status and body."""
    with scene.client() as http:
        challenge = http.post("/auth/challenge", json={"account": account}).json()
        signed = Account.sign_message(encode_defunct(text=challenge["text"]), private_key)
        token = http.post(
            "/auth/token",
            json={"challenge_id": challenge["challenge_id"], "signature": signed.signature.hex()},
        )
    return token.status_code, token.json()


def test_rotation_keeps_the_vouchers_and_only_the_new_key_spends_them(scene: Scene) -> None:
    ent = scene.orgs["enterprise"]
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    with scene.client("issuer", **{"Idempotency-Key": "issue"}) as issuer:
        issue = {"enterprise_org": ent.id, "units": 2 * PRICE}
        assert issuer.post(f"/programs/{program_id}/issue", json=issue).status_code == 201
    scene.world.deposit(ent, PRICE)
    with scene.client("enterprise") as http:
        before = http.get("/vouchers").json()
    old = ent.account
    keyfile = scene.keystore.export(old, "test export", scrypt_n=2**4)
    old_key = bytes(Account.decrypt(keyfile, "test export"))  # to try the old key afterwards

    with scene.client("enterprise") as http:
        api_key = http.post("/auth/api-keys", json={"scope": "write"}).json()["secret"]

    rotate = f"/organisations/{ent.id}/accounts/{old}/rotate"
    with scene.client(**{"X-API-Key": api_key, "Idempotency-Key": "rotate-1"}) as http:
        rotated = http.post(rotate, json={})
        keys_after = len(scene.keystore.list())
        replay = http.post(rotate, json={})  # the API key follows the rotation: still valid
        assert http.get("/organisations/me").json()["account"] == rotated.json()["account"]
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    new = body["account"]
    assert body["replaces"] == old and body["custody"] == "custodial" and new != old
    assert replay.content == rotated.content and replay.headers["Idempotent-Replayed"] == "true"
    assert len(scene.keystore.list()) == keys_after  # the replay made no key
    info = scene.keystore.info(old)
    assert info.status is KeyStatus.REVOKED and info.replaced_by == new

    # The old key is refused: its login token, a new login, and the chain itself.
    with scene.client("enterprise") as http:
        stale = http.get("/vouchers")
    assert stale.status_code == 403 and stale.json()["code"] == "OrganisationNotActive"
    status, refused = _token_for(scene, old, old_key)
    assert status == 403 and refused["code"] == "OrganisationNotActive"
    p = scene.world.p
    assert not call(p.registry.functions.isActiveAccount(old))
    with reverts("ProtocolUnauthorizedAccount"):
        call(p.registry.functions.spenderHolderOf(old))

    # The new key logs in and sees and spends the same vouchers.
    fund_gas(scene.world, new)  # eth-tester charges gas; the embedded node does not
    scene.tokens["enterprise"] = scene.login(new)
    with scene.client("enterprise") as http:
        me = http.get("/organisations/me").json()
        assert http.get("/vouchers").json() == before
    assert me["account"] == new and me["organisation"]["accounts"] == [new]
    with scene.client("institution") as inst:
        service = inst.post(
            "/services", json={"category": int(Category.TESTING), "price": PRICE, "name": "EMC"}
        ).json()["id"]
    place = {"service_id": service, "program_id": program_id, "units": PRICE // 2}
    with scene.client("enterprise", **{"Idempotency-Key": "place"}) as http:
        placed = http.post("/orders", json={**place, "own_funds": PRICE // 2})
    assert placed.status_code == 201, placed.text
    order = placed.json()["id"]
    with scene.client("institution") as inst:
        assert inst.post(f"/orders/{order}/accept").status_code == 200
        digest = {"deliverable_hash": Web3.keccak(text="report").to_0x_hex()}
        assert inst.post(f"/orders/{order}/deliver", json=digest).status_code == 200
    with scene.client("enterprise", **{"Idempotency-Key": "confirm"}) as http:
        confirmed = http.post(f"/orders/{order}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        [after] = http.get("/vouchers").json()["data"]
    assert after["units"] == before["data"][0]["units"] - PRICE // 2


def test_accounts_are_added_and_removed_custodial_or_self_custody(scene: Scene) -> None:
    ent = scene.orgs["enterprise"]
    accounts = f"/organisations/{ent.id}/accounts"
    wallet = Account.create()
    with scene.client("enterprise", **{"Idempotency-Key": "add-self"}) as http:
        added = http.post(accounts, json={"account": wallet.address})
    assert added.status_code == 201, added.text
    assert added.json()["custody"] == "self" and added.json()["account"] == wallet.address
    status, token = _token_for(scene, wallet.address, wallet.key)
    assert status == 200 and token["org_id"] == ent.id

    with scene.client("enterprise", **{"Idempotency-Key": "add-again"}) as http:
        again = http.post(accounts, json={"account": wallet.address})
    assert again.status_code == 409 and again.json()["code"] == "RegistryAccountAlreadyRegistered"

    with scene.client("enterprise", **{"Idempotency-Key": "add-custodial"}) as http:
        custodial = http.post(accounts, json={"label": "ERP signer"})
    assert custodial.status_code == 201, custodial.text
    held = custodial.json()["account"]
    info = scene.keystore.info(held)
    assert info.active and info.org_id == ent.id and info.label == "ERP signer"

    with scene.client("enterprise", **{"Idempotency-Key": "rotate-self"}) as http:
        not_held = http.post(f"{accounts}/{wallet.address}/rotate", json={})
    assert not_held.status_code == 403 and not_held.json()["code"] == "NotCustodial"

    for account, wiped in ((held, True), (wallet.address, False)):
        with scene.client("enterprise", **{"Idempotency-Key": f"remove-{account}"}) as http:
            removed = http.delete(f"{accounts}/{account}")
        assert removed.status_code == 200, removed.text
        assert removed.json()["key_wiped"] is wiped
    assert scene.keystore.info(held).status is KeyStatus.REVOKED
    status, gone = _token_for(scene, wallet.address, wallet.key)
    assert status == 403 and gone["code"] == "OrganisationNotActive"

    with scene.client("enterprise", **{"Idempotency-Key": "remove-last"}) as http:
        last = http.delete(f"{accounts}/{ent.account}")
    assert last.status_code == 422 and last.json()["code"] == "RegistryLastAccount"
    with scene.client("enterprise") as http:
        assert http.get(f"/organisations/{ent.id}").json()["accounts"] == [ent.account]


@pytest.mark.parametrize("custody", ["custodial", "self"])
def test_the_governor_replaces_a_key_of_another_organisation(scene: Scene, custody: str) -> None:
    inst = scene.orgs["institution"]
    replacement = None if custody == "custodial" else Account.create().address
    path = f"/organisations/{inst.id}/accounts/{inst.account}/rotate"
    with scene.client("governor", **{"Idempotency-Key": "recover"}) as http:
        recovered = http.post(path, json={"account": replacement})
    assert recovered.status_code == 200, recovered.text
    body = recovered.json()
    assert body["custody"] == custody and body["replaces"] == inst.account
    if replacement is not None:
        assert body["account"] == replacement
    else:
        assert scene.keystore.info(body["account"]).active
    assert scene.keystore.info(inst.account).status is KeyStatus.REVOKED
    assert call(scene.world.p.registry.functions.accountsOf(inst.id)) == [body["account"]]

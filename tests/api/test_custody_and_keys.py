"""Self-custody through /relay, and API keys: scoped, hashed at rest, revocable."""

from __future__ import annotations

import sqlite3

from eth_account import Account
from eth_account.messages import encode_defunct

from tests.api.conftest import Scene, create_program, signed_application
from tests.world import SHANGHAI, SHANGHAI_PUDONG
from voucher_chain.contracts import OrgKind
from voucher_chain.signer import LocalSigner


def test_self_custody_request_is_relayed_as_its_signer(scene: Scene) -> None:
    program_id = create_program(scene, spend_regions=[SHANGHAI])
    wallet = Account.create()
    ent = scene.world.register(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, account=wallet.address)
    with scene.client() as http:
        challenge = http.post("/auth/challenge", json={"account": wallet.address}).json()
        signed = Account.sign_message(encode_defunct(text=challenge["text"]), wallet.key)
        token = http.post(
            "/auth/token",
            json={"challenge_id": challenge["challenge_id"], "signature": signed.signature.hex()},
        ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    with scene.client(**auth, **{"Idempotency-Key": "apply"}) as http:
        custodial = http.post("/applications", json={"program_id": program_id, "units": 500})
        assert custodial.status_code == 403 and custodial.json()["code"] == "NotCustodial"

    body = signed_application(scene, wallet, program_id, 500, b"\x01" * 32)
    with scene.client(**auth, **{"Idempotency-Key": "relay-1"}) as http:
        relayed = http.post("/relay", json=body)
        assert relayed.status_code == 200, relayed.text
        assert relayed.json()["signer"] == wallet.address
        replay = http.post("/relay", json=body)
        assert replay.content == relayed.content
    with scene.client(**auth, **{"Idempotency-Key": "relay-2"}) as http:
        refused = http.post("/relay", json=body)
        assert refused.status_code == 422
        assert refused.json()["details"]["reason"] == "replayed"

    with scene.client("issuer", **{"Idempotency-Key": "approve"}) as http:
        approved = http.post("/applications/1/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["enterprise_org"] == ent.id
    with scene.client(**auth) as http:
        [balance] = http.get("/vouchers").json()["data"]
    assert balance["program_id"] == program_id and balance["units"] == 500


def test_api_keys_are_scoped_hashed_and_revocable(scene: Scene) -> None:
    with scene.client("enterprise") as http:
        created = http.post("/auth/api-keys", json={"scope": "read", "label": "erp"})
        assert created.status_code == 201, created.text
    key = created.json()
    secret = key["secret"]
    with sqlite3.connect(scene.settings.database_path) as db:
        stored = db.execute("SELECT * FROM api_keys").fetchall()
    assert stored and all(secret not in str(row) for row in stored)

    with scene.client(**{"X-API-Key": secret, "Idempotency-Key": "k"}) as http:
        me = http.get("/organisations/me")
        assert me.status_code == 200 and me.json()["organisation"]["id"] == key["org_id"]
        write = http.post("/orders/1/confirm")
        assert write.status_code == 403 and write.json()["code"] == "Forbidden"
        nested = http.post("/auth/api-keys", json={"scope": "write"})
        assert nested.status_code == 403
    with scene.client("enterprise") as http:
        assert http.delete(f"/auth/api-keys/{key['id']}").status_code == 204
        assert http.get("/auth/api-keys").json()["data"][0]["revoked"] is True
    with scene.client(**{"X-API-Key": secret}) as http:
        gone = http.get("/organisations/me")
    assert gone.status_code == 401 and gone.json()["code"] == "NotAuthenticated"


def test_a_challenge_is_single_use(scene: Scene) -> None:
    account = scene.orgs["finance"].account
    with scene.client() as http:
        challenge = http.post("/auth/challenge", json={"account": account}).json()
        signature = LocalSigner(scene.keystore).sign_message(account, challenge["text"]).hex()
        body = {"challenge_id": challenge["challenge_id"], "signature": signature}
        assert http.post("/auth/token", json=body).status_code == 200
        again = http.post("/auth/token", json=body)
    assert again.status_code == 401 and again.json()["code"] == "NotAuthenticated"

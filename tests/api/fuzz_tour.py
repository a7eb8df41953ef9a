"""The fuzz's tour: every operation of the API driven through a successful path by a role meant
to use it, each response checked against the OpenAPI document — program → fund → issue →
application → service → orders in every state → dispute → settlement → API keys → supervision →
the governor's operations → registration and accounts → a relayed self-custody request → a claim
and an expiry after their deadlines. It leaves real ids behind for the fuzz."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from tests.api.conftest import ROLES, fund_gas, signed_application
from tests.api.openapi_contract import Fuzz
from tests.world import SHANGHAI, SHANGHAI_PUDONG, YUAN
from voucher_chain.contracts import Category, OrgKind
from voucher_chain.signer import LocalSigner

__all__ = ["PRICE", "tour"]

PRICE = 10_000 * YUAN
CONFIRM_WINDOW = 3600


def tour(f: Fuzz) -> None:
    """Every resource driven through its successful paths, each response checked."""
    scene = f.scene
    ent, inst = scene.orgs["enterprise"], scene.orgs["institution"]
    now = scene.world.now()
    terms = {
        "fiscal_year": 2026,
        "finance_org": scene.orgs["finance"].id,
        "spend_regions": [SHANGHAI],
        "issue_start": now,
        "issue_end": now + 180 * 86400,
        "expiry": now + 300 * 86400,
        "settlement_deadline": now + 330 * 86400,
        "confirm_window": CONFIRM_WINDOW,
    }
    program = f.ok("issuer", "POST", "/programs", json=terms)["id"]
    scene.world.deposit(scene.orgs["finance"], 1_000_000 * YUAN)
    scene.world.deposit(ent, 10 * PRICE)
    p = f"/programs/{program}"
    f.ok(
        "finance",
        "POST",
        "/programs/{program_id}/fund",
        f"{p}/fund",
        json={"amount": 10**6 * YUAN},
    )
    issue = {"enterprise_org": ent.id, "units": 100_000 * YUAN}
    f.ok("issuer", "POST", "/programs/{program_id}/issue", f"{p}/issue", json=issue)
    applied = [
        f.ok(
            "enterprise",
            "POST",
            "/applications",
            json={"program_id": program, "units": u},
        )
        for u in (1_000 * YUAN, 2_000 * YUAN)
    ]
    a_ids = [a["id"] for a in applied]
    for role in ("enterprise", "issuer", "regulator"):
        f.ok(role, "GET", "/applications/{application_id}", f"/applications/{a_ids[0]}")
    path = "/applications/{application_id}"
    f.ok("issuer", "POST", path + "/approve", f"/applications/{a_ids[0]}/approve")
    f.ok(
        "issuer",
        "POST",
        path + "/reject",
        f"/applications/{a_ids[1]}/reject",
        json={"reason_code": 3},
    )
    service = f.ok(
        "institution",
        "POST",
        "/services",
        json={"category": int(Category.TESTING), "price": PRICE, "name": "EMC testing"},
    )["id"]
    place = {
        "service_id": service,
        "program_id": program,
        "units": PRICE // 2,
        "own_funds": PRICE // 2,
    }
    orders = [f.ok("enterprise", "POST", "/orders", json=place)["id"] for _ in range(6)]
    o = "/orders/{order_id}"
    digest = Web3.keccak(text="report").to_0x_hex()
    settled, rejected, cancelled, disputed, to_expire, to_claim = orders
    for oid in (settled, disputed, to_claim):
        f.ok("institution", "POST", o + "/accept", f"/orders/{oid}/accept")
        f.ok(
            "institution",
            "POST",
            o + "/deliver",
            f"/orders/{oid}/deliver",
            json={"deliverable_hash": digest},
        )
    f.ok("enterprise", "POST", o + "/confirm", f"/orders/{settled}/confirm")
    f.ok(
        "institution",
        "POST",
        o + "/reject",
        f"/orders/{rejected}/reject",
        json={"reason_code": 1},
    )
    f.ok("enterprise", "POST", o + "/cancel", f"/orders/{cancelled}/cancel")
    f.ok(
        "enterprise",
        "POST",
        o + "/dispute",
        f"/orders/{disputed}/dispute",
        json={"reason_hash": digest},
    )
    resolution = {"units": PRICE // 4, "own_funds": PRICE // 4}
    f.ok("issuer", "POST", o + "/resolve", f"/orders/{disputed}/resolve", json=resolution)
    created = f.ok("institution", "POST", "/auth/api-keys", json={"scope": "read", "label": "erp"})
    f.ok(
        "regulator",
        "POST",
        "/supervision/organisations/{org_id}/freeze",
        f"/supervision/organisations/{scene.orgs['finance'].id}/freeze",
        json={"reason_code": 2},
    )
    f.ok(
        "regulator",
        "POST",
        "/supervision/organisations/{org_id}/unfreeze",
        f"/supervision/organisations/{scene.orgs['finance'].id}/unfreeze",
    )
    revoke = {"program_id": program, "enterprise_org": ent.id, "units": YUAN, "reason_code": 1}
    f.ok("regulator", "POST", "/supervision/revocations", json=revoke)
    for role in ROLES:
        f.ok(role, "GET", "/organisations/me")
        own = scene.orgs[role].id
        f.ok(role, "GET", "/organisations/{org_id}", f"/organisations/{own}")
        f.call(role, "GET", "/organisations/{org_id}", f"/organisations/{ent.id}")
        f.ok(role, "GET", "/auth/api-keys")
        for listing in ("/programs", "/orders", "/services"):
            f.ok(role, "GET", listing)
        f.call(role, "GET", "/settlements")  # institutions and regulators only
        f.ok(
            role, "GET", "/services", params={"category": int(Category.TESTING), "region": SHANGHAI}
        )
    f.ok("enterprise", "GET", "/vouchers")
    f.ok("enterprise", "GET", "/vouchers/history")
    f.ok("regulator", "GET", "/vouchers/history", params={"org_id": ent.id})
    for role in ("enterprise", "regulator"):
        f.ok(role, "GET", "/categories")
        f.ok(role, "GET", "/disputes")
    f.ok("regulator", "GET", "/vouchers", params={"org_id": ent.id})
    f.ok("institution", "GET", "/settlements", params={"institution_org": inst.id})
    for role in ("issuer", "regulator"):
        f.ok(role, "GET", "/programs/{program_id}", p)
        f.ok(role, "GET", "/programs/{program_id}/status", f"{p}/status")
    for oid in orders:
        f.ok("enterprise", "GET", o, f"/orders/{oid}")
    for state in ("settled", "rejected", "cancelled", "disputed", "placed"):
        f.ok("regulator", "GET", "/orders", params={"state": state})
    f.ok(None, "GET", "/health")
    challenge = f.ok(None, "POST", "/auth/challenge", json={"account": ent.account})
    f.ok(None, "GET", "/auth/challenge", params={"account": ent.account})
    signature = LocalSigner(scene.keystore).sign_message(ent.account, challenge["text"])
    token = {"challenge_id": challenge["challenge_id"], "signature": "0x" + signature.hex()}
    f.ok(None, "POST", "/auth/token", json=token)
    f.ok("regulator", "GET", "/metrics")
    f.ok("institution", "DELETE", "/auth/api-keys/{key_id}", f"/auth/api-keys/{created['id']}")
    _governor(f)
    accounts, wallet = _accounts(f)
    _relay(f, program, wallet)
    _web_routes(f, service, orders)
    _after_deadlines(f, to_claim, to_expire)
    # every order is final now, and the settlement deadline has passed: the program closes
    f.ok("issuer", "POST", "/programs/{program_id}/close", f"{p}/close")
    audit_ids = _audit(f)
    f.ids = {
        "program_id": [program],
        "application_id": a_ids,
        "order_id": orders,
        "org_id": [org.id for org in scene.orgs.values()],
        "key_id": [created["id"]],
        "enterprise_org": [ent.id],
        "institution_org": [inst.id],
        "finance_org": [scene.orgs["finance"].id],
        "service_id": [service],
        "account": accounts,
        **audit_ids,
    }


def _audit(f: Fuzz) -> dict[str, list[Any]]:
    """The regulator's /audit endpoints, in JSON and the text formats."""
    for name in ("summary", "categories", "institutions", "enterprises", "flows", "latency"):
        f.ok("regulator", "GET", f"/audit/reports/{name}")
        f.ok("regulator", "GET", f"/audit/reports/{name}", params={"format": "csv"})
    f.ok("regulator", "GET", "/audit/reports/monthly", params={"format": "table"})
    f.ok("regulator", "GET", "/audit/reports/monthly")
    f.ok("regulator", "GET", "/audit/anomalies")
    status = f.ok("regulator", "GET", "/audit/status")
    f.ok("regulator", "GET", "/audit/blocks")
    block = f.ok(
        "regulator", "GET", "/audit/blocks/{number}", f"/audit/blocks/{status['indexed_block']}"
    )
    tx = block["transactions"][0]["tx_hash"]
    f.ok("regulator", "GET", "/audit/transactions/{tx_hash}", f"/audit/transactions/{tx}")
    f.ok("regulator", "POST", "/audit/exports", json={})
    return {"number": [status["indexed_block"]], "tx_hash": [tx]}


def _governor(f: Fuzz) -> None:
    f.ok("governor", "POST", "/categories", json={"name": "知识产权分析 IP analysis"})
    f.ok("governor", "POST", "/supervision/pause")
    f.ok("governor", "POST", "/supervision/unpause")
    registration = {
        "kind": int(OrgKind.ENTERPRISE),
        "region": SHANGHAI_PUDONG,
        "credit_code": "91310115MAFUZZ0001",
        "employees": 30,
    }
    f.ok("governor", "POST", "/organisations", json=registration)


def _accounts(f: Fuzz) -> tuple[list[str], LocalAccount]:
    """A custodial account added, rotated and removed; a self-custody one added (for /relay)."""
    ent = f.scene.orgs["enterprise"]
    base = "/organisations/{org_id}/accounts"
    here = f"/organisations/{ent.id}/accounts"
    added = f.ok("enterprise", "POST", base, here, json={"label": "fuzz"})["account"]
    fund_gas(f.scene.world, added)  # a rotation is signed by the old key; eth-tester wants gas
    account = base + "/{account}"
    rotated = f.ok("enterprise", "POST", account + "/rotate", f"{here}/{added}/rotate", json={})
    f.ok("enterprise", "DELETE", account, f"{here}/{rotated['account']}")
    wallet: LocalAccount = Account.create()
    f.ok("enterprise", "POST", base, here, json={"account": wallet.address})
    return [added, rotated["account"], wallet.address], wallet


def _relay(f: Fuzz, program: int, wallet: LocalAccount) -> None:
    """The self-custody account applies for vouchers through the API's relayer."""
    body = signed_application(f.scene, wallet, program, YUAN, b"\x02" * 32)
    f.ok("enterprise", "POST", "/relay", json=body)


def _after_deadlines(f: Fuzz, to_claim: int, to_expire: int) -> None:
    """The institution claims once the confirmation window has passed; after the settlement
    deadline the enterprise expires an order never delivered. (Chain time stays there.)"""
    o = "/orders/{order_id}"
    f.scene.world.travel(CONFIRM_WINDOW + 1)
    f.ok("institution", "POST", o + "/claim", f"/orders/{to_claim}/claim")
    f.scene.world.travel(331 * 86400)
    f.ok("enterprise", "POST", o + "/expire", f"/orders/{to_expire}/expire")


def _web_routes(f: Fuzz, service: int, orders: list[int]) -> None:
    """What the web apps added: repricing, an order's steps, the application queue, the relay
    template, accreditation."""
    inst = f.scene.orgs["institution"].id
    body = {"price": PRICE, "active": True}
    f.ok("institution", "PATCH", "/services/{service_id}", f"/services/{service}", json=body)
    for oid in orders:
        f.ok("enterprise", "GET", "/orders/{order_id}/steps", f"/orders/{oid}/steps")
    for role in ("enterprise", "issuer", "regulator"):
        f.ok(role, "GET", "/applications", params={"status": "approved"})
    f.ok("enterprise", "GET", "/relay/template")
    path = "/accreditations/{org_id}"
    f.ok("institution", "GET", path, f"/accreditations/{inst}")
    mask = {"categories": Category.mask()}
    f.ok("issuer", "PUT", path, f"/accreditations/{inst}", json=mask)

"""Registering organisations over HTTP: who may register whom is the registry's rule, and the
API refuses before sending what the chain would refuse; custodial registration hands out the
new organisation's first API key once; a refused registration leaves no key behind."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from tests.api.conftest import Scene
from tests.world import BEIJING, SHANGHAI_PUDONG, reverts
from voucher_chain.contracts import OrgKind, call


def _body(kind: OrgKind, region: int, code: str, **extra: Any) -> dict[str, Any]:
    return {"kind": int(kind), "region": region, "credit_code": code, "employees": 8, **extra}


def _count(scene: Scene) -> int:
    return int(call(scene.world.p.registry.functions.organisationCount()))


def test_custodial_registration_hands_out_the_first_api_key_once(scene: Scene) -> None:
    body = _body(OrgKind.INSTITUTION, BEIJING, "12110000MB0000001X")
    with scene.client("governor", **{"Idempotency-Key": "register-1"}) as http:
        created = http.post("/organisations", json=body)
        replay = http.post("/organisations", json=body)
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["custody"] == "custodial" and first["organisation"]["kind"] == OrgKind.INSTITUTION
    assert first["organisation"]["accounts"] == [first["account"]]
    assert scene.keystore.info(first["account"]).active
    secret = first["api_key"]["secret"]
    assert first["api_key"]["scope"] == "write"

    again = replay.json()
    assert replay.status_code == 201 and "secret" not in again["api_key"]
    assert again["organisation"] == first["organisation"]
    with sqlite3.connect(scene.settings.database_path) as db:
        rows = db.execute("SELECT body FROM idempotency").fetchall()
    assert rows and all(secret not in str(row) for row in rows)

    with scene.client(**{"X-API-Key": secret}) as http:
        me = http.get("/organisations/me").json()
    assert me["organisation"]["id"] == first["organisation"]["id"]


def test_self_custody_registration_names_the_organisations_own_key(scene: Scene) -> None:
    wallet = Account.create()
    body = _body(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, "91310115MA0000002Y", account=wallet.address)
    with scene.client("issuer", **{"Idempotency-Key": "register-self"}) as http:
        created = http.post("/organisations", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["custody"] == "self" and created.json()["api_key"] is None
    assert created.json()["organisation"]["registrar"] == scene.orgs["issuer"].id
    assert wallet.address not in scene.keystore.active_addresses()


@pytest.mark.parametrize(
    ("kind", "region", "chain_error"),
    [
        (OrgKind.FINANCE, SHANGHAI_PUDONG, "RegistryInvalidKind"),
        (OrgKind.REGULATOR, SHANGHAI_PUDONG, "RegistryInvalidKind"),
        (OrgKind.ENTERPRISE, BEIJING, "RegistryRegionOutsideJurisdiction"),
    ],
)
def test_an_issuer_is_refused_what_the_chain_refuses_before_anything_is_sent(
    scene: Scene, kind: OrgKind, region: int, chain_error: str
) -> None:
    issuer = scene.orgs["issuer"]
    fn = scene.world.p.registry.functions.registerOrganisation(
        int(kind), region, Web3.keccak(text="code"), 8, 0, b"\x00" * 32, Account.create().address
    )
    with reverts(chain_error):  # what the chain says to the issuer's own key
        call(fn, issuer.account)
    orgs, keys = _count(scene), len(scene.keystore.list())
    with scene.client("issuer", **{"Idempotency-Key": f"refused-{kind}-{region}"}) as http:
        refused = http.post("/organisations", json=_body(kind, region, "91310115MA0000003Z"))
    assert refused.status_code == 403 and refused.json()["code"] == "Forbidden", refused.text
    assert (_count(scene), len(scene.keystore.list())) == (orgs, keys)


def test_a_registration_the_chain_refuses_destroys_the_key_it_made(scene: Scene) -> None:
    body = _body(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, "91310115MA0000004A")
    with scene.client("governor", **{"Idempotency-Key": "dup-1"}) as http:
        assert http.post("/organisations", json=body).status_code == 201
    active = len(scene.keystore.active_addresses())
    with scene.client("governor", **{"Idempotency-Key": "dup-2"}) as http:
        duplicate = http.post("/organisations", json=body)
    assert (
        duplicate.status_code == 409 and duplicate.json()["code"] == "RegistryDuplicateCreditCode"
    )
    assert len(scene.keystore.active_addresses()) == active


@pytest.mark.parametrize(
    "body",
    [
        _body(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, "91310115MA0000005B", employees=0),
        _body(OrgKind.GOVERNOR, SHANGHAI_PUDONG, "91310115MA0000006C"),
        _body(OrgKind.ENTERPRISE, 12, "91310115MA0000007D"),
    ],
)
def test_invalid_registrations_are_refused_by_the_schema(
    scene: Scene, body: dict[str, Any]
) -> None:
    with scene.client("governor", **{"Idempotency-Key": "invalid"}) as http:
        refused = http.post("/organisations", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "ValidationError"

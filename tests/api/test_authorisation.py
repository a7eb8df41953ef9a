"""The authorisation matrix: every endpoint × every role (and no credentials, an expired token,
a frozen organisation) → only the intended ones get past the API's checks.

"Gets past" means the answer is not one of the API's own refusals (401, or 403 with an API
code); what the contract then says of a made-up id (404, 409, 422) is the domain's business.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from web3 import Web3

from tests.api.conftest import ROLES, SECRET, Scene, build_scene
from tests.world import SHANGHAI_PUDONG
from voucher_chain.contracts import OrgKind, Protocol

REFUSALS = {"NotAuthenticated", "TokenExpired", "Forbidden", "OrganisationNotActive"}
ANON = ("none", "expired", "frozen")
ALL = ROLES
HOLDERS = ("enterprise",)
ENT, INST, ISSUER, FIN, REG = "enterprise", "institution", "issuer", "finance", "regulator"
HASH = "0x" + "ab" * 32
#: The governor is not one of the matrix's logged-in roles: every one of them is refused.
GOVERNOR_ONLY: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def matrix(
    _chain: tuple[Any, Web3, Protocol], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Scene, dict[str, str], httpx.Client]]:
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    tmp: Path = tmp_path_factory.mktemp("matrix")
    try:
        for scene in build_scene(tester, w3, protocol, tmp):
            frozen = scene.custodial(OrgKind.ENTERPRISE, SHANGHAI_PUDONG)
            tokens = dict(scene.tokens)
            tokens["frozen"] = scene.login(frozen.account)
            with scene.client("regulator") as http:
                http.post(
                    f"/supervision/organisations/{frozen.id}/freeze", json={}
                ).raise_for_status()
            ent = scene.orgs["enterprise"]
            now = int(time.time())
            claims = {"sub": str(ent.id), "kind": 1, "acct": ent.account, "typ": "access"}
            tokens["expired"] = jwt.encode(
                {**claims, "iat": now - 3600, "exp": now - 60}, SECRET, "HS256"
            )
            with scene.client() as http:  # one connection for every case
                yield scene, tokens, http
    finally:
        tester.revert_to_snapshot(snapshot)


def _terms(scene: Scene) -> dict[str, Any]:
    now = scene.world.now()
    return {
        "fiscal_year": 2026,
        "finance_org": scene.orgs["finance"].id,
        "issue_start": now,
        "issue_end": now + 86400,
        "expiry": now + 2 * 86400,
        "settlement_deadline": now + 3 * 86400,
    }


# (method, path, body, roles that get past the API's checks); {ent}/{inst} are org ids.
ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("GET", "/organisations/me", None, ALL),
    ("GET", "/organisations/{ent}", None, (ENT, REG)),
    ("POST", "/auth/api-keys", {"scope": "read"}, ALL),
    ("GET", "/auth/api-keys", None, ALL),
    ("DELETE", "/auth/api-keys/none", None, ALL),
    ("GET", "/metrics", None, (REG,)),
    ("POST", "/programs", "terms", (ISSUER,)),
    ("GET", "/programs", None, ALL),
    ("GET", "/programs/999", None, ALL),
    ("GET", "/programs/999/status", None, ALL),
    ("POST", "/programs/999/fund", {"amount": 1}, (FIN,)),
    ("POST", "/programs/999/issue", {"enterprise_org": 999, "units": 1}, (ISSUER,)),
    ("POST", "/applications", {"program_id": 999, "units": 1}, HOLDERS),
    ("GET", "/applications/999", None, ALL),
    ("POST", "/applications/999/approve", None, (ISSUER,)),
    ("POST", "/applications/999/reject", {"reason_code": 1}, (ISSUER,)),
    ("GET", "/vouchers?org_id={ent}", None, (ENT, REG)),
    ("GET", "/services?category=0&region=310000&max_price=100", None, ALL),
    ("POST", "/services", {"category": 0, "price": 100, "name": "x"}, (INST,)),
    ("PATCH", "/services/999", {"price": 100, "active": True}, (INST,)),
    (
        "POST",
        "/orders",
        {"service_id": 999, "program_id": 999, "units": 1, "own_funds": 1},
        HOLDERS,
    ),
    ("GET", "/orders?state=settled", None, ALL),
    ("GET", "/orders/999", None, ALL),
    ("POST", "/orders/999/accept", None, (INST,)),
    ("POST", "/orders/999/reject", {"reason_code": 1}, (INST,)),
    ("POST", "/orders/999/cancel", None, HOLDERS),
    ("POST", "/orders/999/deliver", {"deliverable_hash": HASH}, (INST,)),
    ("POST", "/orders/999/confirm", None, HOLDERS),
    ("POST", "/orders/999/claim", None, (INST,)),
    ("POST", "/orders/999/dispute", {"reason_hash": HASH}, HOLDERS),
    ("POST", "/orders/999/resolve", {"units": 0, "own_funds": 0}, (ISSUER, REG)),
    ("POST", "/orders/999/expire", None, (ENT, INST, ISSUER, REG)),
    ("GET", "/settlements?institution_org={inst}", None, (INST, REG)),
    ("POST", "/supervision/organisations/999/freeze", {"reason_code": 1}, (REG,)),
    ("POST", "/supervision/organisations/999/unfreeze", None, (REG,)),
    (
        "POST",
        "/supervision/revocations",
        {"program_id": 999, "enterprise_org": 999, "units": 1},
        (ISSUER, REG),
    ),
    ("POST", "/relay", {"request": {}, "signature": "0x" + "11" * 65}, ALL),
    ("GET", "/categories", None, ALL),
    ("POST", "/categories", {"name": "x"}, GOVERNOR_ONLY),
    ("GET", "/disputes", None, ALL),
    ("GET", "/vouchers/history?org_id={ent}", None, (ENT, REG)),
    ("GET", "/applications?status=pending", None, ALL),
    ("POST", "/programs/999/close", None, (ISSUER, FIN)),
    ("GET", "/orders/999/steps", None, ALL),
    ("GET", "/relay/template", None, ALL),
    ("GET", "/accreditations/{inst}", None, ALL),
    ("PUT", "/accreditations/{inst}", {"categories": 1}, (ISSUER,) + GOVERNOR_ONLY),
    ("POST", "/supervision/pause", None, GOVERNOR_ONLY),
    ("POST", "/supervision/unpause", None, GOVERNOR_ONLY),
    # the audit (regulators only; docs/audit.md)
    *(
        ("GET", f"/audit/reports/{name}?format=json", None, (REG,))
        for name in ("summary", "categories", "institutions", "enterprises", "flows")
    ),
    ("GET", "/audit/reports/latency", None, (REG,)),
    ("GET", "/audit/reports/monthly?format=csv", None, (REG,)),
    ("GET", "/audit/anomalies", None, (REG,)),
    ("GET", "/audit/status", None, (REG,)),
    ("GET", "/audit/blocks", None, (REG,)),
    ("GET", "/audit/blocks/1", None, (REG,)),
    ("GET", "/audit/transactions/" + HASH, None, (REG,)),
    ("POST", "/audit/exports", {}, (REG,)),
]

#: Reachable without credentials, by design: the health probe, the login handshake, the schema.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/auth/challenge"),
    ("POST", "/auth/challenge"),
    ("POST", "/auth/token"),
}

CASES = [
    pytest.param(method, path, body, role, role in allowed, id=f"{method} {path} as {role}")
    for method, path, body, allowed in ENDPOINTS
    for role in (*ROLES, *ANON)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "allowed"), CASES)
def test_only_intended_roles_get_through(
    matrix: tuple[Scene, dict[str, str], httpx.Client],
    method: str,
    path: str,
    body: Any,
    role: str,
    allowed: bool,
) -> None:
    scene, tokens, http = matrix
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if role != "none":
        headers["Authorization"] = f"Bearer {tokens[role]}"
    url = path.format(ent=scene.orgs["enterprise"].id, inst=scene.orgs["institution"].id)
    payload = _terms(scene) if body == "terms" else body
    response = http.request(method, url, json=payload, headers=headers)
    assert response.status_code < 500, response.text
    is_json = response.headers.get("content-type", "").startswith("application/json")
    code = response.json().get("code") if is_json and response.content else None
    if allowed:
        assert response.status_code != 401 and code not in REFUSALS, response.text
    else:
        assert response.status_code in (401, 403) and code in REFUSALS, response.text
        expected = {"none": "NotAuthenticated", "expired": "TokenExpired"}.get(role)
        if role == "frozen":
            expected = "OrganisationNotActive"
        if expected is not None:
            assert code == expected, response.text


def test_health_is_the_only_public_read(matrix: tuple[Scene, dict[str, str], httpx.Client]) -> None:
    _, _, http = matrix
    assert http.get("/health").json()["status"] == "ok"
    assert http.get("/programs").status_code == 401


def test_the_matrix_covers_every_endpoint(
    matrix: tuple[Scene, dict[str, str], httpx.Client],
) -> None:
    """Every operation of the OpenAPI document is in ENDPOINTS (or deliberately public)."""
    _, _, http = matrix
    listed = [(method, path.split("?")[0]) for method, path, _, _ in ENDPOINTS]
    missing = []
    for template, operations in http.get("/openapi.json").json()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
        for method in operations:
            key = (method.upper(), template)
            if key in PUBLIC:
                continue
            if not any(m == key[0] and pattern.match(p) for m, p in listed):
                missing.append(key)
    assert missing == [], f"endpoints without an authorisation row: {missing}"

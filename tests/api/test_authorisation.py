"""The authorisation matrix: every endpoint × every role (and no credentials, an expired token,
a frozen organisation) → only the intended ones get past the API's checks.
The governor is a logged-in role like the others (a second governor account the API holds).

"Gets past" means the answer is not one of the API's own refusals (401, or 403 with an API
code); what the contract then says of a made-up id (404, 409, 422) is the domain's business.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jwt
import pytest
from web3 import Web3

from tests.api.conftest import ROLES, SECRET, Scene, build_scene
from tests.api.endpoints import ENDPOINTS, allowed_roles
from tests.world import SHANGHAI_PUDONG
from voucher_chain.contracts import OrgKind, Protocol

REFUSALS = {"NotAuthenticated", "TokenExpired", "Forbidden", "OrganisationNotActive"}
ANON = ("none", "expired", "frozen")


@pytest.fixture(scope="module")
def matrix(
    _chain: tuple[Any, Web3, Protocol], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Scene, dict[str, str], httpx2.Client]]:
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


CASES = [
    pytest.param(method, path, body, role, role in allowed, id=f"{method} {path} as {role}")
    for method, path, body, allowed in ENDPOINTS
    for role in (*ROLES, *ANON)
]


@pytest.mark.parametrize(("method", "path", "body", "role", "allowed"), CASES)
def test_only_intended_roles_get_through(
    matrix: tuple[Scene, dict[str, str], httpx2.Client],
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


def test_health_is_the_only_public_read(
    matrix: tuple[Scene, dict[str, str], httpx2.Client],
) -> None:
    _, _, http = matrix
    assert http.get("/health").json()["status"] == "ok"
    assert http.get("/programs").status_code == 401


def test_the_matrix_covers_every_endpoint(
    matrix: tuple[Scene, dict[str, str], httpx2.Client],
) -> None:
    """Every operation of the OpenAPI document is in ENDPOINTS (or deliberately public)."""
    _, _, http = matrix
    missing = [
        (method.upper(), template)
        for template, operations in http.get("/openapi.json").json()["paths"].items()
        for method in operations
        if allowed_roles(method.upper(), template) == ()
    ]
    assert missing == [], f"endpoints without an authorisation row: {missing}"

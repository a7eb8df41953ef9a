"""Every operation of the API and the roles meant to get past its checks: the one table the
authorisation matrix (test_authorisation.py) and the OpenAPI fuzz (test_openapi_fuzz.py) share.

Rows are ``(method, path, body, roles)``; ``{ent}``/``{inst}`` in a path are the scene's
enterprise and institution ids; a body of ``"terms"`` is replaced by valid program terms.
"""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import ROLES
from tests.world import SHANGHAI_PUDONG
from voucher_chain.contracts import OrgKind

ALL = ROLES
HOLDERS = ("enterprise",)
ENT, INST, ISSUER, FIN, REG, GOV = ROLES
HASH = "0x" + "ab" * 32
#: Accounts of nobody: adding one succeeds once (then it is taken); rotating or removing one is
#: 404 for whoever gets past the role checks.
NEW_ACCOUNT = "0x" + "5e" * 20
NOBODY = "0x" + "0b" * 20
#: An enterprise in the issuer's region (Shanghai), which both the governor and the issuer may
#: register (the second one is refused by the chain as a duplicate credit code: not a role check).
REGISTRATION = {
    "kind": int(OrgKind.ENTERPRISE),
    "region": SHANGHAI_PUDONG,
    "credit_code": "91310115MATRIX0001",
    "employees": 12,
}


# (method, path, body, roles that get past the API's checks); {ent}/{inst} are org ids.
ENDPOINTS: list[tuple[str, str, Any, tuple[str, ...]]] = [
    ("GET", "/organisations/me", None, ALL),
    ("POST", "/organisations", REGISTRATION, (ISSUER, GOV)),
    ("POST", "/organisations/{ent}/accounts", {"account": NEW_ACCOUNT}, (ENT, GOV)),
    ("POST", f"/organisations/{{ent}}/accounts/{NOBODY}/rotate", {}, (ENT, GOV)),
    ("DELETE", f"/organisations/{{ent}}/accounts/{NOBODY}", None, (ENT, GOV)),
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
    ("POST", "/orders/999/expire", None, (ENT, INST, ISSUER)),
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
    ("POST", "/categories", {"name": "x"}, (GOV,)),
    ("GET", "/disputes", None, ALL),
    ("GET", "/vouchers/history?org_id={ent}", None, (ENT, REG)),
    # what the web apps need (docs/web.md)
    ("GET", "/applications?status=pending", None, ALL),
    ("POST", "/programs/999/close", None, (ISSUER, FIN)),
    ("GET", "/orders/999/steps", None, ALL),
    ("GET", "/relay/template", None, ALL),
    ("GET", "/accreditations/{inst}", None, ALL),
    ("PUT", "/accreditations/{inst}", {"categories": 1}, (ISSUER, GOV)),
    ("POST", "/supervision/pause", None, (GOV,)),
    ("POST", "/supervision/unpause", None, (GOV,)),
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


def allowed_roles(method: str, template: str) -> tuple[str, ...] | None:
    """The roles the table admits to the operation ``method template`` of the OpenAPI document
    (``None`` if the operation is public, and ``()`` if no row covers it)."""
    if (method, template) in PUBLIC:
        return None
    pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
    for m, path, _, roles in ENDPOINTS:
        if m == method and pattern.match(path.split("?")[0]):
            return roles
    return ()

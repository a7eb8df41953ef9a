"""Property: whatever a caller sends to any operation of the OpenAPI schema, the API answers
without a 5xx; every 2xx body validates against the schema the OpenAPI document declares for that
operation and status ($refs resolved, formats checked), and every error against the stable error
body (``ErrorPublic``).

A tour of the whole lifecycle (program → fund → issue → application → service → orders in every
state → dispute → settlement → API keys → supervision) runs first through the same check, so the
successful responses of every resource are validated, and leaves real ids for the fuzz to use.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from web3 import Web3

from api.schemas.common import ErrorPublic
from tests.api.conftest import ROLES, Scene, build_scene
from tests.world import SHANGHAI, YUAN
from voucher_chain.contracts import Category, Protocol
from voucher_chain.signer import LocalSigner

_SPEC_URI = "urn:voucher-chain:openapi"
_ERROR = Draft202012Validator(
    ErrorPublic.model_json_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
)
PRICE = 10_000 * YUAN


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class Contract:
    """The OpenAPI document as a set of JSON-Schema validators, one per operation × status."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self.mismatches: list[str] = []
        self.validated: Counter[str] = Counter()

    def declared(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        responses: dict[str, Any] = self.spec["paths"][path][method.lower()]["responses"]
        declared: dict[str, Any] | None = responses.get(str(status))
        return declared

    def validator(self, method: str, path: str, status: int) -> Draft202012Validator:
        ref = _pointer(
            "paths", path, method.lower(), "responses", str(status), "content", "application/json"
        )
        return Draft202012Validator(
            {"$ref": f"{_SPEC_URI}#{ref}/schema"},
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def check(self, method: str, path: str, response: httpx.Response) -> None:
        """Asserts the response is no 5xx and matches the document (2xx) or the error body."""
        where = f"{method} {path} → {response.status_code}"
        assert response.status_code < 500, (where, response.text)
        if response.status_code >= 400:
            errors = sorted(_ERROR.iter_errors(response.json()), key=str)
            assert not errors, (where, response.text, [e.message for e in errors])
            declared = self.declared(method, path, response.status_code)
            if declared is not None and "application/json" in declared.get("content", {}):
                validator = self.validator(method, path, response.status_code)
                if not validator.is_valid(response.json()):
                    self.mismatches.append(where)
            return
        declared = self.declared(method, path, response.status_code)
        assert declared is not None, (where, "status not in the OpenAPI document")
        content = declared.get("content", {})
        media = response.headers.get("content-type", "").split(";")[0]
        if media != "application/json" and media in content:  # a declared text format (CSV)
            self.validated[where] += 1
            return
        if "application/json" not in content:
            assert response.headers.get("content-type") != "application/json" or not (
                response.content
            ), (where, "a JSON body the document does not declare", response.text)
            return
        assert response.headers.get("content-type") == "application/json", where
        errors = sorted(
            self.validator(method, path, response.status_code).iter_errors(response.json()), key=str
        )
        assert not errors, (where, response.text, [f"{list(e.path)}: {e.message}" for e in errors])
        self.validated[where] += 1


@dataclass
class Fuzz:
    scene: Scene
    contract: Contract
    http: httpx.Client
    ids: dict[str, list[int]] = field(default_factory=dict)

    def call(
        self,
        role: str | None,
        method: str,
        path: str,
        url: str | None = None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: bool = False,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if key else {}
        if role is not None:
            headers["Authorization"] = f"Bearer {self.scene.tokens[role]}"
        response = self.http.request(method, url or path, json=json, params=params, headers=headers)
        self.contract.check(method, path, response)
        return response

    def ok(
        self, role: str | None, method: str, path: str, url: str | None = None, **kw: Any
    ) -> Any:
        response = self.call(role, method, path, url, **kw)
        assert response.status_code < 300, (method, url or path, response.text)
        json_body = response.headers.get("content-type") == "application/json"
        return response.json() if json_body and response.content else None


def _audit_tour(f: Fuzz) -> dict[str, list[Any]]:
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


def _tour(f: Fuzz) -> None:
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
        key=True,
    )
    issue = {"enterprise_org": ent.id, "units": 100_000 * YUAN}
    f.ok("issuer", "POST", "/programs/{program_id}/issue", f"{p}/issue", json=issue, key=True)
    applied = [
        f.ok(
            "enterprise",
            "POST",
            "/applications",
            json={"program_id": program, "units": u},
            key=True,
        )
        for u in (1_000 * YUAN, 2_000 * YUAN)
    ]
    a_ids = [a["id"] for a in applied]
    for role in ("enterprise", "issuer", "regulator"):
        f.ok(role, "GET", "/applications/{application_id}", f"/applications/{a_ids[0]}")
    path = "/applications/{application_id}"
    f.ok("issuer", "POST", path + "/approve", f"/applications/{a_ids[0]}/approve", key=True)
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
    f.ok(
        "institution",
        "PATCH",
        "/services/{service_id}",
        f"/services/{service}",
        json={"price": PRICE, "active": True},
    )
    place = {
        "service_id": service,
        "program_id": program,
        "units": PRICE // 2,
        "own_funds": PRICE // 2,
    }
    orders = [f.ok("enterprise", "POST", "/orders", json=place, key=True)["id"] for _ in range(5)]
    o = "/orders/{order_id}"
    digest = Web3.keccak(text="report").to_0x_hex()
    settled, rejected, cancelled, disputed, _open = orders
    for oid in (settled, disputed):
        f.ok("institution", "POST", o + "/accept", f"/orders/{oid}/accept")
        f.ok(
            "institution",
            "POST",
            o + "/deliver",
            f"/orders/{oid}/deliver",
            json={"deliverable_hash": digest},
        )
    f.ok("enterprise", "POST", o + "/confirm", f"/orders/{settled}/confirm", key=True)
    f.ok(
        "institution",
        "POST",
        o + "/reject",
        f"/orders/{rejected}/reject",
        json={"reason_code": 1},
        key=True,
    )
    f.ok("enterprise", "POST", o + "/cancel", f"/orders/{cancelled}/cancel", key=True)
    f.ok(
        "enterprise",
        "POST",
        o + "/dispute",
        f"/orders/{disputed}/dispute",
        json={"reason_hash": digest},
    )
    resolution = {"units": PRICE // 4, "own_funds": PRICE // 4}
    f.ok("issuer", "POST", o + "/resolve", f"/orders/{disputed}/resolve", json=resolution, key=True)
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
    f.ok("regulator", "POST", "/supervision/revocations", json=revoke, key=True)
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
        f.ok("enterprise", "GET", o + "/steps", f"/orders/{oid}/steps")
    for role in ("enterprise", "issuer", "regulator"):
        f.ok(role, "GET", "/applications", params={"status": "approved"})
    f.ok("enterprise", "GET", "/relay/template")
    accreditation = "/accreditations/{org_id}"
    f.ok("institution", "GET", accreditation, f"/accreditations/{inst.id}")
    mask = {"categories": Category.mask()}
    f.ok("issuer", "PUT", accreditation, f"/accreditations/{inst.id}", json=mask)
    for state in ("settled", "rejected", "cancelled", "disputed", "placed"):
        f.ok("regulator", "GET", "/orders", params={"state": state})
    f.ok(None, "GET", "/health")
    challenge = f.ok(None, "POST", "/auth/challenge", json={"account": ent.account})
    f.ok(None, "GET", "/auth/challenge", params={"account": ent.account})
    signature = LocalSigner(scene.keystore).sign_message(ent.account, challenge["text"])
    token = {"challenge_id": challenge["challenge_id"], "signature": "0x" + signature.hex()}
    f.ok(None, "POST", "/auth/token", json=token)
    f.ok("regulator", "GET", "/metrics")
    audit_ids = _audit_tour(f)
    f.ok("institution", "DELETE", "/auth/api-keys/{key_id}", f"/auth/api-keys/{created['id']}")
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
    }
    f.ids.update(audit_ids)


@pytest.fixture(scope="module")
def fuzz(
    _chain: tuple[Any, Web3, Protocol], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzz]:
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    try:
        for scene in build_scene(tester, w3, protocol, tmp_path_factory.mktemp("fuzz")):
            with scene.client() as http:
                contract = Contract(http.get("/openapi.json").json())
                f = Fuzz(scene=scene, contract=contract, http=http)
                _tour(f)
                yield f
    finally:
        tester.revert_to_snapshot(snapshot)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**130),
    st.text(max_size=20),
    st.just("0x" + "ab" * 32),
)


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    ops = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            ops.append((method.upper(), path, params))
    return ops


def _value(f: Fuzz, name: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value for a field: one of the tour's real ids, a plausible one, or anything."""
    spec = f.contract.spec
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    plausible: list[st.SearchStrategy[Any]] = [_scalars]
    if name in f.ids:
        plausible.append(st.sampled_from(f.ids[name]))
    if "enum" in schema:
        plausible.append(st.sampled_from(schema["enum"]))
    if schema.get("type") == "integer":
        plausible.append(st.integers(min_value=0, max_value=PRICE))
    if "pattern" in schema and "64" in schema["pattern"]:
        plausible.append(st.just("0x" + "cd" * 32))
    return st.one_of(*plausible)


def _body(f: Fuzz, method: str, path: str) -> st.SearchStrategy[Any]:
    """A body: near-valid for the operation's declared schema, or arbitrary."""
    op = f.contract.spec["paths"][path][method.lower()]
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = schema.get("schema", {}).get("$ref")
    anything = st.one_of(st.none(), st.dictionaries(st.text(max_size=12), _scalars))
    if ref is None:
        return anything
    declared = f.contract.spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    fields = {k: _value(f, k, v) for k, v in declared.get("properties", {}).items()}
    required = set(declared.get("required", []))
    near = st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )
    return st.one_of(near, anything)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_5xx_and_every_response_matches_its_schema(fuzz: Fuzz, data: st.DataObject) -> None:
    method, path, query_names = data.draw(st.sampled_from(_operations(fuzz.contract.spec)))
    role = data.draw(st.sampled_from((*ROLES, None)))
    url = path
    for name in [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]:
        value = data.draw(
            st.one_of(
                st.sampled_from(fuzz.ids[name]),
                st.integers(min_value=-3, max_value=2**66),
                st.text("ab1"),
            )
        )
        url = url.replace("{" + name + "}", str(value) or "x")
    query = data.draw(
        st.dictionaries(
            st.sampled_from(query_names or ["x"]),
            st.one_of(_scalars, st.sampled_from(sum(fuzz.ids.values(), []))),
            max_size=3,
        )
    )
    body = data.draw(_body(fuzz, method, path))
    params = {k: str(v) for k, v in query.items() if v is not None}
    fuzz.call(role, method, path, url, json=body, params=params, key=True)


def test_errors_match_the_schema_the_document_declares_for_them(fuzz: Fuzz) -> None:
    """Where the document declares a JSON body for an error status (422, as FastAPI's
    HTTPValidationError), the error body the tour and the fuzz received must match it too."""
    response = fuzz.call("issuer", "POST", "/programs", json={})
    assert response.status_code == 422
    assert fuzz.contract.mismatches == []


def test_the_validators_are_not_vacuous(fuzz: Fuzz) -> None:
    """$refs resolve to the real component schemas: a wrong body is refused."""
    order = fuzz.contract.validator("GET", "/orders/{order_id}", 200)
    assert not order.is_valid({})
    assert not order.is_valid({"id": "1"})
    page = fuzz.contract.validator("GET", "/orders", 200)
    assert page.is_valid({"data": [], "count": 0})
    assert not page.is_valid({"data": [{"id": 1}], "count": 1})
    assert not page.is_valid({"data": [], "count": -1})


#: Successes the tour does not reach: past deadlines (close, claim, expire), a signed forward
#: request (relay), the governor's operations (the scene logs in no governor).
_UNREACHED = {
    "POST /programs/{program_id}/close",
    "POST /orders/{order_id}/claim",
    "POST /orders/{order_id}/expire",
    "POST /relay",
    "POST /categories",
    "POST /supervision/pause",
    "POST /supervision/unpause",
}


def test_every_operation_had_a_success_validated(fuzz: Fuzz) -> None:
    declared = {
        f"{method.upper()} {path}"
        for path, item in fuzz.contract.spec["paths"].items()
        for method, op in item.items()
        for status, response in op["responses"].items()
        if status.startswith("2") and "application/json" in response.get("content", {})
    }
    validated = {where.rsplit(" → ", 1)[0] for where in fuzz.contract.validated}
    assert declared - validated == _UNREACHED

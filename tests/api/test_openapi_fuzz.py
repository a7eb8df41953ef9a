"""Property: whatever a caller sends to any operation of the OpenAPI document, the API answers
without a 5xx; every 2xx body validates against the schema the document declares for that
operation and status ($refs resolved, formats checked), and every error against the stable error
body (``ErrorPublic``).

The tour (tests/api/fuzz_tour.py) first drives every operation through a successful path, so the
successful responses of every resource are validated, and leaves real ids for the fuzz. The fuzz
then sends each operation a few drawn requests — the first by a role the authorisation table
(tests/api/endpoints.py) admits to it, the rest by any role or none — with an Idempotency-Key
exactly where the document requires one. Both coverages are asserted, so they cannot shrink.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from api.deps import idempotent_call
from api.main import ROUTERS
from tests.api.conftest import ROLES, build_scene
from tests.api.endpoints import allowed_roles
from tests.api.fuzz_tour import PRICE, tour
from tests.api.openapi_contract import Contract, Fuzz, operation
from voucher_chain.contracts import Protocol

EXAMPLES_PER_OPERATION = 6


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
                tour(f)
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


def _fuzz_one(fuzz: Fuzz, method: str, path: str, query_names: list[str]) -> bool:
    """A few drawn requests to one operation; whether one came from an admitted role."""
    allowed = allowed_roles(method, path)
    admitted: tuple[str | None, ...] = (None,) if allowed is None else allowed
    assert admitted, f"{method} {path} has no row in tests/api/endpoints.py"
    reached: list[bool] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        # The admitted roles come first: the simplest example, which hypothesis tries first,
        # is a call by one of them (asserted below, so it cannot silently stop being so).
        role = data.draw(st.sampled_from((*admitted, *ROLES, None)))
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
        fuzz.call(role, method, path, url, json=body, params=params)
        reached.append(allowed is None or role in admitted)

    one()
    return any(reached)


def test_no_5xx_and_every_response_matches_its_schema(fuzz: Fuzz) -> None:
    """Every operation, fuzzed; each one at least once by a role meant to use it."""
    operations = _operations(fuzz.contract.spec)
    unreached = [
        operation(method, path)
        for method, path, query_names in operations
        if not _fuzz_one(fuzz, method, path, query_names)
    ]
    assert len(operations) >= 50
    assert unreached == []


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


def test_every_operation_succeeded_and_its_response_was_validated(fuzz: Fuzz) -> None:
    """The tour reached a 2xx on every operation of the document; every 2xx with a JSON body
    was validated against its schema."""
    spec = fuzz.contract.spec
    everything = {operation(m, path) for path, item in spec["paths"].items() for m in item}
    with_json = {
        operation(method, path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        for status, response in op["responses"].items()
        if status.startswith("2") and "application/json" in response.get("content", {})
    }
    validated = {where.rsplit(" → ", 1)[0] for where in fuzz.contract.validated}
    assert everything - fuzz.contract.succeeded == set()
    assert with_json - validated == set()


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def test_the_idempotency_key_is_required_exactly_where_the_api_enforces_it(fuzz: Fuzz) -> None:
    """The document says required on exactly the operations whose handler takes the key (and
    refuses to run without it: 428, tests/api/test_idempotency.py)."""
    enforced = {
        operation(method, route.path_format)
        for module in ROUTERS
        for route in module.router.routes
        if isinstance(route, APIRoute) and _depends_on(route.dependant, idempotent_call)
        for method in route.methods or ()
    }
    required = {
        operation(method, path)
        for path, item in fuzz.contract.spec["paths"].items()
        for method in item
        if fuzz.contract.requires_key(method, path)
    }
    assert "POST /orders/{order_id}/confirm" in enforced and "POST /organisations" in enforced
    assert required == enforced

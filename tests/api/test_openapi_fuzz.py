"""Property: whatever a caller sends to any operation of the OpenAPI schema, the API answers
without a 5xx, every error has the stable body, and every success matches its response model."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from tests.api.conftest import ROLES, Scene, build_scene
from voucher_chain.contracts import Protocol

Fuzz = tuple[Scene, dict[str, Any], httpx.Client]


@pytest.fixture(scope="module")
def fuzz(
    _chain: tuple[Any, Web3, Protocol], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzz]:
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    try:
        for scene in build_scene(tester, w3, protocol, tmp_path_factory.mktemp("fuzz")):
            with scene.client() as http:
                spec = http.get("/openapi.json").json()
                yield scene, spec, http
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


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_5xx_and_stable_error_bodies(fuzz: Fuzz, data: st.DataObject) -> None:
    scene, spec, http = fuzz
    method, path, query_names = data.draw(st.sampled_from(_operations(spec)))
    role = data.draw(st.sampled_from((*ROLES, None)))
    url = path
    for name in [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]:
        value = data.draw(st.one_of(st.integers(min_value=-3, max_value=2**66), st.text("ab1")))
        url = url.replace("{" + name + "}", str(value) or "x")
    query = data.draw(st.dictionaries(st.sampled_from(query_names or ["x"]), _scalars, max_size=3))
    body = data.draw(st.one_of(st.none(), st.dictionaries(st.text(max_size=12), _scalars)))
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if role is not None:
        headers["Authorization"] = f"Bearer {scene.tokens[role]}"
    params = {k: str(v) for k, v in query.items() if v is not None}
    response = http.request(method, url, params=params, json=body, headers=headers)
    assert response.status_code < 500, (method, url, response.text)
    if response.status_code >= 400:
        error = response.json()
        assert set(error) == {"code", "message", "details"}, error
        assert isinstance(error["code"], str) and isinstance(error["details"], dict)
    elif response.headers.get("content-type") == "application/json" and response.content:
        documented = spec["paths"][path][method.lower()]["responses"]
        assert str(response.status_code) in documented, (method, path, response.status_code)

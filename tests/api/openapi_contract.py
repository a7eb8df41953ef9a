"""The OpenAPI document as a test oracle: :class:`Contract` validates every response against
the schema the document declares for its operation and status; :class:`Fuzz` sends requests
through it (with an ``Idempotency-Key`` exactly where the document requires one) and records
which operations answered 2xx and which were called by a role meant to get through."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx2
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.idempotency import HEADER
from api.schemas.common import ErrorPublic
from tests.api.conftest import Scene
from tests.api.endpoints import allowed_roles

__all__ = ["Contract", "Fuzz", "operation"]

_SPEC_URI = "urn:voucher-chain:openapi"
_ERROR = Draft202012Validator(
    ErrorPublic.model_json_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
)


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
        #: Operations (``"POST /orders"``) that answered 2xx at least once, with or without a body.
        self.succeeded: set[str] = set()

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

    def requires_key(self, method: str, path: str) -> bool:
        """Whether the document marks the Idempotency-Key header required for the operation."""
        parameters = self.spec["paths"][path][method.lower()].get("parameters", [])
        return any(p["name"] == HEADER and p.get("required") for p in parameters)

    def check(self, method: str, path: str, response: httpx2.Response) -> None:
        """Asserts the response is no 5xx and matches the document (2xx) or the error body."""
        where = f"{method} {path} → {response.status_code}"
        assert response.status_code < 500, (where, response.text)
        if response.status_code < 300:
            self.succeeded.add(operation(method, path))
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


def operation(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


@dataclass
class Fuzz:
    scene: Scene
    contract: Contract
    http: httpx2.Client
    ids: dict[str, list[Any]] = field(default_factory=dict)
    #: Calls per operation made by a role the authorisation table admits to it.
    authorised: Counter[str] = field(default_factory=Counter)

    def call(
        self,
        role: str | None,
        method: str,
        path: str,
        url: str | None = None,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx2.Response:
        """Sends the request (a fresh Idempotency-Key where the document requires one)."""
        key = self.contract.requires_key(method, path)
        headers = {HEADER: uuid.uuid4().hex} if key else {}
        allowed = allowed_roles(method, path)
        if allowed is None or role in allowed:
            self.authorised[operation(method, path)] += 1
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

"""Dependencies of the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.auth import API_KEY_PREFIX, Principal, authenticate_api_key, authenticate_token
from api.context import ApiContext
from api.errors import Forbidden, NotAuthenticated
from api.idempotency import HEADER, IdempotentCall, fingerprint
from voucher_chain.contracts import OrgKind
from voucher_chain.services import VoucherClient

__all__ = [
    "Client",
    "Ctx",
    "CurrentOrg",
    "EnterpriseOrg",
    "FinanceOrg",
    "GovernorOrg",
    "Idempotent",
    "InstitutionOrg",
    "IssuerOrg",
    "Page",
    "Pagination",
    "RegulatorOrg",
    "require_kinds",
]

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="A login token, or an API key (vck_…).")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (vck_…).")


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Ctx = Annotated[ApiContext, Depends(get_context)]


def get_client(ctx: Ctx) -> VoucherClient:
    return ctx.client


Client = Annotated[VoucherClient, Depends(get_client)]


def current_org(
    request: Request,
    ctx: Ctx,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The calling organisation, checked against the chain on every request."""
    secret = api_key or (bearer.credentials if bearer is not None else None)
    if not secret:
        raise NotAuthenticated("log in (POST /auth/challenge, /auth/token) or send an API key")
    if secret.startswith(API_KEY_PREFIX):
        principal = authenticate_api_key(ctx.db, ctx.protocol, secret)
    else:
        principal = authenticate_token(ctx.settings, ctx.protocol, secret)
    if principal.scope == "read" and request.method not in _READ_METHODS:
        raise Forbidden("this API key may only read", scope=principal.scope)
    return principal


CurrentOrg = Annotated[Principal, Depends(current_org)]


def require_kinds(*kinds: OrgKind) -> Callable[[Principal], Principal]:
    """A dependency admitting only organisations of ``kinds``."""
    names = [k.name.lower() for k in kinds]

    def check(principal: CurrentOrg) -> Principal:
        if principal.kind not in kinds:
            raise Forbidden(
                f"only {' or '.join(names)} organisations may do this, not "
                f"{principal.kind.name.lower()}",
                allowed=names,
                kind=principal.kind.name.lower(),
            )
        return principal

    return check


EnterpriseOrg = Annotated[
    Principal, Depends(require_kinds(OrgKind.ENTERPRISE, OrgKind.STARTUP_TEAM))
]
InstitutionOrg = Annotated[Principal, Depends(require_kinds(OrgKind.INSTITUTION))]
IssuerOrg = Annotated[Principal, Depends(require_kinds(OrgKind.ISSUER))]
FinanceOrg = Annotated[Principal, Depends(require_kinds(OrgKind.FINANCE))]
RegulatorOrg = Annotated[Principal, Depends(require_kinds(OrgKind.REGULATOR))]
GovernorOrg = Annotated[Principal, Depends(require_kinds(OrgKind.GOVERNOR))]


async def idempotent_call(
    request: Request,
    ctx: Ctx,
    principal: CurrentOrg,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=200,
            description="Required (428 without it): one key per operation, e.g. a UUID; a "
            "repeat with the same key returns the first result and does nothing again.",
        ),
    ] = None,
) -> IdempotentCall:
    body = await request.body()
    print_ = fingerprint(request.method, request.url.path, body)
    return IdempotentCall(
        ctx.db, principal.org_id, key, print_, ctx.settings.idempotency_wait_seconds
    )


Idempotent = Annotated[IdempotentCall, Depends(idempotent_call)]


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def pagination(
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page:
    return Page(offset=offset, limit=limit)


Pagination = Annotated[Page, Depends(pagination)]

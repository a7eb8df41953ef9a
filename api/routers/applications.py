"""Applications for vouchers: an enterprise applies, the program's issuer approves or rejects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api.auth import Principal
from api.deps import Client, Ctx, CurrentOrg, EnterpriseOrg, Idempotent, IssuerOrg, Pagination
from api.errors import NotFound
from api.schemas.common import Paged, page_of
from api.schemas.resources import ApplicationCreate, ReasonCreate
from voucher_chain.contracts import OrgKind, call
from voucher_chain.services import Application, Issuance, TxRef

router = APIRouter(prefix="/applications", tags=["applications"])

ApplicationId = Annotated[int, Path(gt=0, lt=2**64)]


def _visible(client: Client, principal: Principal, application_id: int) -> Application:
    raw = call(client.protocol.programs.functions.application(application_id))
    if raw[3] == 0:  # status "none": there is no such application
        raise NotFound(f"no application {application_id}", application_id=application_id)
    app = client.programs.application(application_id)
    if principal.kind == OrgKind.REGULATOR or principal.org_id == app.enterprise_org:
        return app
    if client.programs.budget(app.program_id).issuer_org == principal.org_id:
        return app
    raise NotFound(f"no application {application_id}", application_id=application_id)


@router.post("", response_model=Application, status_code=201)
def apply(
    ctx: Ctx, principal: EnterpriseOrg, body: ApplicationCreate, once: Idempotent
) -> Response:
    actor = ctx.actor(principal)
    request_id = once.request_id()
    return once.run(
        lambda: ctx.client.programs.apply(actor, body.program_id, body.units, request_id),
        status_code=201,
    )


@router.get("")
def list_applications(
    client: Client,
    principal: CurrentOrg,
    page: Pagination,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None,
) -> Paged[Application]:
    """Applications the caller may see: its own (an enterprise), those to its programs (an
    issuer), all (a regulator); optionally of one status."""
    found = [a for a in client.programs.applications() if status in (None, a.status)]
    if principal.kind != OrgKind.REGULATOR:
        issued = {p.id for p in client.programs.all() if p.budget.issuer_org == principal.org_id}
        found = [a for a in found if a.enterprise_org == principal.org_id or a.program_id in issued]
    return page_of(found, page)


@router.get("/{application_id}")
def get(client: Client, principal: CurrentOrg, application_id: ApplicationId) -> Application:
    return _visible(client, principal, application_id)


@router.post("/{application_id}/approve", response_model=Issuance)
def approve(
    ctx: Ctx, principal: IssuerOrg, application_id: ApplicationId, once: Idempotent
) -> Response:
    """Approves a pending application: its vouchers are issued in the same transaction."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.programs.approve(actor, application_id))


@router.post("/{application_id}/reject")
def reject(
    ctx: Ctx, principal: IssuerOrg, application_id: ApplicationId, body: ReasonCreate
) -> TxRef:
    return ctx.client.programs.reject(ctx.actor(principal), application_id, body.reason_code)

"""Supervision: freezing organisations, revoking vouchers, pausing the protocol."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from api.auth import Principal
from api.deps import Ctx, GovernorOrg, Idempotent, RegulatorOrg, require_kinds
from api.schemas.resources import FreezeCreate, RevokeCreate
from voucher_chain.contracts import OrgKind
from voucher_chain.services import TxRef

router = APIRouter(prefix="/supervision", tags=["supervision"])

OrgId = Annotated[int, Path(gt=0, lt=2**64)]
RevokerOrg = Annotated[Principal, Depends(require_kinds(OrgKind.ISSUER, OrgKind.REGULATOR))]


@router.post("/organisations/{org_id}/freeze")
def freeze(ctx: Ctx, principal: RegulatorOrg, org_id: OrgId, body: FreezeCreate) -> TxRef:
    """Freezes an organisation: it can neither act on chain nor use the API until unfrozen."""
    return ctx.client.registry.freeze(ctx.actor(principal), org_id, body.reason_code)


@router.post("/organisations/{org_id}/unfreeze")
def unfreeze(ctx: Ctx, principal: RegulatorOrg, org_id: OrgId) -> TxRef:
    return ctx.client.registry.unfreeze(ctx.actor(principal), org_id)


@router.post("/revocations", response_model=TxRef)
def revoke(ctx: Ctx, principal: RevokerOrg, body: RevokeCreate, once: Idempotent) -> Response:
    """Claws back an enterprise's vouchers (the program's issuer, or a regulator)."""
    actor = ctx.actor(principal)
    return once.run(
        lambda: ctx.client.programs.revoke(
            actor, body.program_id, body.enterprise_org, body.units, body.reason_code
        )
    )


@router.post("/pause")
def pause(ctx: Ctx, principal: GovernorOrg) -> TxRef:
    """Stops every value-moving operation of the protocol (the governor only)."""
    return ctx.client.registry.pause(ctx.actor(principal))


@router.post("/unpause")
def unpause(ctx: Ctx, principal: GovernorOrg) -> TxRef:
    return ctx.client.registry.unpause(ctx.actor(principal))

"""Accreditation: which service categories an institution may sell (the governor, or an issuer
for institutions in its region)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.deps import Client, Ctx, CurrentOrg, require_kinds
from api.errors import NotFound
from voucher_chain.contracts import OrgKind, OrgStatus

router = APIRouter(prefix="/accreditations", tags=["accreditations"])

OrgId = Annotated[int, Path(gt=0, lt=2**64)]
AccreditorOrg = Annotated[Principal, Depends(require_kinds(OrgKind.GOVERNOR, OrgKind.ISSUER))]


class AccreditationSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: int = Field(
        ge=0, lt=2**256, description="Bitmask over the category ids (bit i = category i)."
    )


class AccreditationPublic(BaseModel):
    institution_org: int
    categories: int = Field(description="Bitmask over the category ids; 0 = not accredited.")


@router.get("/{org_id}")
def get(client: Client, _: CurrentOrg, org_id: OrgId) -> AccreditationPublic:
    """The categories an institution is accredited for (public among members)."""
    org = client.registry.get(org_id)
    if org.status == OrgStatus.NONE or org.kind != OrgKind.INSTITUTION:
        raise NotFound(f"no institution {org_id}", org_id=org_id)
    return AccreditationPublic(
        institution_org=org_id, categories=client.catalogue.accreditation(org_id)
    )


@router.put("/{org_id}")
def put(
    ctx: Ctx, principal: AccreditorOrg, org_id: OrgId, body: AccreditationSet
) -> AccreditationPublic:
    """Replaces an institution's accredited categories (an issuer: institutions of its region)."""
    ctx.client.catalogue.accredit(ctx.actor(principal), org_id, body.categories)
    return AccreditationPublic(
        institution_org=org_id, categories=ctx.client.catalogue.accreditation(org_id)
    )

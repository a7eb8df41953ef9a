"""Organisations: one's own, and (for a regulator) any."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import Client, CurrentOrg
from api.errors import Forbidden, NotFound
from api.schemas.resources import OrganisationMe
from voucher_chain.contracts import OrgKind, OrgStatus
from voucher_chain.services import Organisation

router = APIRouter(prefix="/organisations", tags=["organisations"])


@router.get("/me")
def me(client: Client, principal: CurrentOrg) -> OrganisationMe:
    return OrganisationMe(
        organisation=client.registry.get(principal.org_id),
        account=principal.account,
        settlement_balance=client.money.balance(principal.account),
    )


@router.get("/{org_id}")
def get(
    client: Client, principal: CurrentOrg, org_id: Annotated[int, Path(gt=0, lt=2**64)]
) -> Organisation:
    """An organisation: one's own, or any for a regulator."""
    if org_id != principal.org_id and principal.kind != OrgKind.REGULATOR:
        raise Forbidden("an organisation sees only itself", org_id=org_id)
    org = client.registry.get(org_id)
    if org.status == OrgStatus.NONE:
        raise NotFound(f"no organisation {org_id}", org_id=org_id)
    return org

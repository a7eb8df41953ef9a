"""Disputes: orders an enterprise contested, waiting for the issuer or a regulator."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Client, CurrentOrg, Pagination
from api.schemas.common import Paged, page_of
from voucher_chain.contracts import OrderState, OrgKind
from voucher_chain.services import Order

router = APIRouter(prefix="/disputes", tags=["disputes"])


@router.get("")
def list_disputes(client: Client, principal: CurrentOrg, page: Pagination) -> Paged[Order]:
    """Open disputes the caller is party to, or may resolve (the program's issuer; a regulator
    sees all). Resolve one with ``POST /orders/{id}/resolve``."""
    disputed = client.orders.find(state=OrderState.DISPUTED)
    if principal.kind != OrgKind.REGULATOR:
        disputed = [
            o
            for o in disputed
            if principal.org_id in (o.enterprise_org, o.institution_org)
            or client.programs.budget(o.program_id).issuer_org == principal.org_id
        ]
    return page_of(disputed, page)

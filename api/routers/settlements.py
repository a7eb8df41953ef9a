"""Settlements: what an institution was paid, for which order, in which transaction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Client, CurrentOrg, Pagination
from api.errors import Forbidden
from api.schemas.common import Paged, page_of
from api.schemas.resources import SettlementPublic
from voucher_chain.contracts import OrgKind

router = APIRouter(prefix="/settlements", tags=["settlements"])


@router.get("")
def settlements(
    client: Client,
    principal: CurrentOrg,
    page: Pagination,
    institution_org: Annotated[int | None, Query(gt=0, lt=2**64)] = None,
) -> Paged[SettlementPublic]:
    """An institution's own payments; a regulator names the institution."""
    if principal.kind == OrgKind.REGULATOR:
        if institution_org is None:
            raise Forbidden("a regulator names the institution: ?institution_org=")
        target = institution_org
    elif principal.kind == OrgKind.INSTITUTION and institution_org in (None, principal.org_id):
        target = principal.org_id
    else:
        raise Forbidden("only institutions (their own) and regulators read settlements")
    found = page_of(client.orders.settlements(target), page)
    w3 = client.protocol.w3
    data = [
        SettlementPublic(
            **s.model_dump(),
            paid_at=(
                int(w3.eth.get_block(s.tx.block_number)["timestamp"])
                if s.tx.block_number is not None
                else None
            ),
        )
        for s in found.data
    ]
    return Paged[SettlementPublic](data=data, count=found.count)

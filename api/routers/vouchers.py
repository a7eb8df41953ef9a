"""The wallet: vouchers held, their value, expiry and where they can be spent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Client, CurrentOrg, Pagination
from api.errors import Forbidden, NotFound
from api.schemas.common import Paged, page_of
from voucher_chain.contracts import OrgKind
from voucher_chain.services import VoucherBalance

router = APIRouter(prefix="/vouchers", tags=["vouchers"])

_HOLDERS = (OrgKind.ENTERPRISE, OrgKind.STARTUP_TEAM)


@router.get("")
def wallet(
    client: Client,
    principal: CurrentOrg,
    page: Pagination,
    org_id: Annotated[int | None, Query(gt=0, lt=2**64, description="Regulators only.")] = None,
) -> Paged[VoucherBalance]:
    """The caller's voucher balances per program (a regulator: any holder's, by ``org_id``)."""
    if principal.kind == OrgKind.REGULATOR:
        if org_id is None:
            raise Forbidden("a regulator names the holder: ?org_id=")
        accounts = client.registry.get(org_id).accounts
        if not accounts:
            raise NotFound(f"no organisation {org_id}", org_id=org_id)
        account = accounts[0]
    elif principal.kind in _HOLDERS and org_id in (None, principal.org_id):
        account = principal.account
    else:
        raise Forbidden("only voucher holders (and regulators) have wallets to read")
    return page_of(client.programs.balances(account), page)

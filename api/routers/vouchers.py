"""The wallet: vouchers held, their value, expiry and where they can be spent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Client, CurrentOrg, Pagination
from api.errors import Forbidden, NotFound
from api.schemas.common import Paged, page_of
from voucher_chain.contracts import OrgKind
from voucher_chain.services import VoucherBalance, VoucherMovement

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


@router.get("/history")
def history(
    client: Client,
    principal: CurrentOrg,
    page: Pagination,
    org_id: Annotated[int | None, Query(gt=0, lt=2**64, description="Regulators only.")] = None,
) -> Paged[VoucherMovement]:
    """Every issuance, redemption, revocation and expiry of the caller's vouchers, each with
    its on-chain transaction (a regulator: any holder's, by ``org_id``)."""
    if principal.kind == OrgKind.REGULATOR:
        if org_id is None:
            raise Forbidden("a regulator names the holder: ?org_id=")
        holder = org_id
    elif principal.kind in _HOLDERS and org_id in (None, principal.org_id):
        holder = principal.org_id
    else:
        raise Forbidden("only voucher holders (and regulators) have voucher histories")
    return page_of(client.programs.history(holder), page)

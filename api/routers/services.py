"""The service catalogue: institutions list services; members browse them with filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Client, Ctx, CurrentOrg, InstitutionOrg, Pagination
from api.schemas.common import Paged, page_of
from voucher_chain.services import ServiceCreate, ServiceListing

router = APIRouter(prefix="/services", tags=["services"])


def _region_prefix(pattern: int) -> str:
    """A GB/T 2260 pattern as a prefix: 310000 → "31", 330500 → "3305", 330522 → "330522"."""
    text = f"{pattern:06d}"
    while text.endswith("00") and text:
        text = text[:-2]
    return text


@router.get("")
def catalogue(
    client: Client,
    _: CurrentOrg,
    page: Pagination,
    category: Annotated[int | None, Query(ge=0, le=255)] = None,
    region: Annotated[
        int | None, Query(ge=1, le=999999, description="GB/T 2260 code; 310000 = all Shanghai.")
    ] = None,
    max_price: Annotated[int | None, Query(ge=0, lt=2**128)] = None,
    institution_org: Annotated[int | None, Query(gt=0, lt=2**64)] = None,
    include_inactive: bool = False,
) -> Paged[ServiceListing]:
    """Listed services, filtered by category, the institution's region, price or institution."""
    found = []
    regions: dict[int, int] = {}
    for s in client.catalogue.services():
        if not s.active and not include_inactive:
            continue
        if category is not None and s.category != category:
            continue
        if max_price is not None and s.price > max_price:
            continue
        if institution_org is not None and s.institution_org != institution_org:
            continue
        if region is not None:
            if s.institution_org not in regions:
                regions[s.institution_org] = client.registry.get(s.institution_org).region
            if not f"{regions[s.institution_org]:06d}".startswith(_region_prefix(region)):
                continue
        found.append(s)
    return page_of(found, page)


@router.post("", status_code=status.HTTP_201_CREATED)
def list_service(ctx: Ctx, principal: InstitutionOrg, body: ServiceCreate) -> ServiceListing:
    """Lists a service of the calling (accredited) institution."""
    return ctx.client.catalogue.list_service(ctx.actor(principal), body)


class ServiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    price: int = Field(gt=0, lt=2**128, description="Fen per unit.")
    active: bool = Field(description="False withdraws the service from the catalogue.")


@router.patch("/{service_id}")
def update_service(
    ctx: Ctx,
    principal: InstitutionOrg,
    service_id: Annotated[int, Path(gt=0, lt=2**64)],
    body: ServiceUpdate,
) -> ServiceListing:
    """Changes the price of one of the caller's services, or withdraws / relists it. Orders
    already placed keep the price they were placed at."""
    ctx.client.catalogue.update_service(ctx.actor(principal), service_id, body.price, body.active)
    return ctx.client.catalogue.get(service_id)

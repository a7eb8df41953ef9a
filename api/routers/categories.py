"""The governor's list of service categories (hardware is never one)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Client, Ctx, CurrentOrg, GovernorOrg, Pagination
from api.schemas.common import Paged, page_of
from voucher_chain.services import CategoryInfo

router = APIRouter(prefix="/categories", tags=["categories"])


class CategoryCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["知识产权分析 IP analysis"])


@router.get("")
def list_categories(client: Client, _: CurrentOrg, page: Pagination) -> Paged[CategoryInfo]:
    """Every category, with whether it is still open for new services and programs."""
    return page_of(client.catalogue.categories(), page)


@router.post("", status_code=201)
def add_category(ctx: Ctx, principal: GovernorOrg, body: CategoryCreate) -> CategoryInfo:
    """Adds a service category (the governor only)."""
    category = ctx.client.catalogue.add_category(ctx.actor(principal), body.name)
    return ctx.client.catalogue.categories()[category]

"""Shapes every resource shares: pages of results and the error body."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from api.deps import Page

__all__ = ["ErrorPublic", "Paged", "page_of"]

T = TypeVar("T")


class Paged(BaseModel, Generic[T]):
    """One page of a list: ``data`` and the ``count`` of all matching items."""

    data: list[T]
    count: int = Field(ge=0, description="How many items match, across all pages.")


def page_of(items: Sequence[T], page: Page) -> Paged[T]:
    return Paged[T](data=list(items[page.offset : page.offset + page.limit]), count=len(items))


class ErrorPublic(BaseModel):
    """The body of every error response."""

    code: str = Field(examples=["ProgramRegionNotAllowed"])
    message: str = Field(examples=["Vouchers of program 3 cannot be spent in region 110108."])
    details: dict[str, Any] = Field(default_factory=dict)

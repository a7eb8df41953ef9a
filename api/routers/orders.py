"""Orders, the whole lifecycle. Steps that move value require an ``Idempotency-Key``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from hexbytes import HexBytes

from api.auth import Principal
from api.deps import (
    Client,
    Ctx,
    CurrentOrg,
    EnterpriseOrg,
    Idempotent,
    InstitutionOrg,
    Pagination,
    require_kinds,
)
from api.errors import NotFound
from api.schemas.common import Paged, page_of
from api.schemas.resources import OrderDeliver, OrderDispute, OrderPlace, OrderReject
from voucher_chain.contracts import OrderState, OrgKind
from voucher_chain.services import DisputeResolution, Order, OrderCreate, OrderStep, Settlement

router = APIRouter(prefix="/orders", tags=["orders"])

OrderId = Annotated[int, Path(gt=0, lt=2**64)]
ArbiterOrg = Annotated[Principal, Depends(require_kinds(OrgKind.ISSUER, OrgKind.REGULATOR))]
#: Who may expire an order: its parties and its program's issuer (``OrderBook.expire``).
PartyOrg = Annotated[
    Principal,
    Depends(
        require_kinds(OrgKind.ENTERPRISE, OrgKind.STARTUP_TEAM, OrgKind.INSTITUTION, OrgKind.ISSUER)
    ),
]


def _visible(client: Client, principal: Principal, order: Order) -> bool:
    if principal.kind == OrgKind.REGULATOR:
        return True
    if principal.org_id in (order.enterprise_org, order.institution_org):
        return True
    return client.programs.budget(order.program_id).issuer_org == principal.org_id


@router.post("", response_model=Order, status_code=201)
def place(ctx: Ctx, principal: EnterpriseOrg, body: OrderPlace, once: Idempotent) -> Response:
    """Places an order: its vouchers and own funds go into escrow at once."""
    actor = ctx.actor(principal)
    order = OrderCreate(**body.model_dump(), request_id=once.request_id())
    return once.run(lambda: ctx.client.orders.place(actor, order), status_code=201)


@router.get("")
def list_orders(
    client: Client,
    principal: CurrentOrg,
    page: Pagination,
    state: Annotated[str | None, Query(pattern="^[a-z]+$", examples=["delivered"])] = None,
) -> Paged[Order]:
    """The caller's orders (as enterprise or institution; a regulator sees all), by state."""
    wanted = None
    if state is not None:
        try:
            wanted = OrderState[state.upper()]
        except KeyError:
            raise NotFound(f"no order state {state!r}", state=state) from None
    org = None if principal.kind == OrgKind.REGULATOR else principal.org_id
    return page_of(client.orders.find(org_id=org, state=wanted), page)


@router.get("/{order_id}")
def get(client: Client, principal: CurrentOrg, order_id: OrderId) -> Order:
    order = client.orders.get(order_id)
    if order.state == OrderState.NONE or not _visible(client, principal, order):
        raise NotFound(f"no order {order_id}", order_id=order_id)
    return order


@router.get("/{order_id}/steps")
def steps(client: Client, principal: CurrentOrg, order_id: OrderId) -> list[OrderStep]:
    """The order's history: each step with its on-chain transaction and time."""
    get(client, principal, order_id)
    return client.orders.steps(order_id)


@router.post("/{order_id}/accept")
def accept(ctx: Ctx, principal: InstitutionOrg, order_id: OrderId) -> Order:
    return ctx.client.orders.accept(ctx.actor(principal), order_id)


@router.post("/{order_id}/reject", response_model=Order)
def reject(
    ctx: Ctx, principal: InstitutionOrg, order_id: OrderId, body: OrderReject, once: Idempotent
) -> Response:
    """The institution refuses the order; the escrow goes back to the enterprise."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.orders.reject(actor, order_id, body.reason_code))


@router.post("/{order_id}/cancel", response_model=Order)
def cancel(ctx: Ctx, principal: EnterpriseOrg, order_id: OrderId, once: Idempotent) -> Response:
    """The enterprise withdraws an order not yet accepted; the escrow comes back."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.orders.cancel(actor, order_id))


@router.post("/{order_id}/deliver")
def deliver(ctx: Ctx, principal: InstitutionOrg, order_id: OrderId, body: OrderDeliver) -> Order:
    digest = bytes(HexBytes(body.deliverable_hash))
    return ctx.client.orders.deliver(ctx.actor(principal), order_id, digest)


@router.post("/{order_id}/confirm", response_model=Settlement)
def confirm(ctx: Ctx, principal: EnterpriseOrg, order_id: OrderId, once: Idempotent) -> Response:
    """Confirms delivery: the institution is paid in this same transaction."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.orders.confirm(actor, order_id))


@router.post("/{order_id}/claim", response_model=Settlement)
def claim(ctx: Ctx, principal: InstitutionOrg, order_id: OrderId, once: Idempotent) -> Response:
    """The institution claims payment after the enterprise stayed silent past the window."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.orders.claim(actor, order_id))


@router.post("/{order_id}/dispute")
def dispute(ctx: Ctx, principal: EnterpriseOrg, order_id: OrderId, body: OrderDispute) -> Order:
    digest = bytes(HexBytes(body.reason_hash))
    return ctx.client.orders.dispute(ctx.actor(principal), order_id, digest)


@router.post("/{order_id}/resolve", response_model=Order)
def resolve(
    ctx: Ctx, principal: ArbiterOrg, order_id: OrderId, body: DisputeResolution, once: Idempotent
) -> Response:
    """The issuer or a regulator splits a disputed order's escrow."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.orders.resolve(actor, order_id, body))


@router.post("/{order_id}/expire", response_model=Order)
def expire(ctx: Ctx, principal: PartyOrg, order_id: OrderId, once: Idempotent) -> Response:
    """Returns the escrow of an order left open past its program's settlement deadline."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.orders.expire(actor, order_id))

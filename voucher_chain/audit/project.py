"""Keeping the projection tables (organisations, accounts, services, programs, orders) up to
date from decoded events, inside the indexer's per-block transaction.

Events carry no organisation profile (employees, industry, affiliation) and no program terms
(caps): those are read from the contracts when the creating event is indexed, through
:class:`ChainReader`, at that event's block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from eth_utils.address import to_checksum_address
from sqlalchemy.orm import Session

from voucher_chain.audit.models import AccountRow, OrderRow, OrgRow, ProgramRow, ServiceRow
from voucher_chain.contracts import OrderState

__all__ = ["ChainReader", "apply_event"]


class ChainReader(Protocol):
    def organisation(self, org_id: int, block: int) -> Any: ...

    def terms(self, program_id: int, block: int) -> Any: ...


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def _org(s: Session, a: dict[str, Any], ts: int, block: int, chain: ChainReader) -> None:
    org = chain.organisation(int(a["orgId"]), block)
    s.merge(
        OrgRow(
            org_id=int(a["orgId"]),
            kind=int(a["kind"]),
            region=int(a["region"]),
            employees=int(org[3]),
            industry=int(org[4]),
            affiliation=_hex(org[7]),
            status=1,
            vault=to_checksum_address(a["vault"]),
            registered_at=ts,
        )
    )
    s.merge(
        AccountRow(address=to_checksum_address(a["account"]), org_id=int(a["orgId"]), active=True)
    )


def _program(s: Session, a: dict[str, Any], ts: int, block: int, chain: ChainReader) -> None:
    t = chain.terms(int(a["programId"]), block)
    s.add(
        ProgramRow(
            program_id=int(a["programId"]),
            issuer_org=int(a["issuerOrg"]),
            finance_org=int(a["financeOrg"]),
            kind=int(a["kind"]),
            fiscal_year=int(a["fiscalYear"]),
            face_value=int(a["faceValue"]),
            per_holder_cap=int(t[4]),
            max_units=int(t[6]),
            full_cover_threshold=int(t[8]),
            created_at=ts,
        )
    )


def _add(s: Session, program_id: int, **amounts: int) -> None:
    row = s.get(ProgramRow, program_id)
    assert row is not None, f"event for unknown program {program_id}"
    for field, amount in amounts.items():
        setattr(row, field, getattr(row, field) + amount)


def _order(s: Session, order_id: int) -> OrderRow:
    row = s.get(OrderRow, order_id)
    assert row is not None, f"event for unknown order {order_id}"
    return row


def _placed(s: Session, a: dict[str, Any], ts: int, block: int) -> None:
    service = s.get(ServiceRow, int(a["serviceId"]))
    voucher, own = int(a["voucherValue"]), int(a["ownFunds"])
    s.add(
        OrderRow(
            order_id=int(a["orderId"]),
            program_id=int(a["programId"]),
            enterprise_org=int(a["enterpriseOrg"]),
            institution_org=int(a["institutionOrg"]),
            service_id=int(a["serviceId"]),
            category=service.category if service is not None else -1,
            units=int(a["units"]),
            voucher_value=voucher,
            own_funds=own,
            price=voucher + own,
            unit_price=service.price if service is not None else voucher + own,
            state=OrderState.PLACED.name.lower(),
            placed_at=ts,
            placed_block=block,
            accepted_at=None,
            delivered_at=None,
            settled_at=None,
            settle_method=None,
        )
    )


def _set_state(state: OrderState, stamp: str | None = None) -> Callable[..., None]:
    def apply(s: Session, a: dict[str, Any], ts: int, _block: int) -> None:
        row = _order(s, int(a["orderId"]))
        row.state = state.name.lower()
        if stamp is not None:
            setattr(row, stamp, ts)

    return apply


def _settled(s: Session, a: dict[str, Any], ts: int, _block: int) -> None:
    row = _order(s, int(a["orderId"]))
    row.state = OrderState.SETTLED.name.lower()
    row.settled_at = ts
    row.settle_method = int(a["method"])
    row.paid_voucher = int(a["voucherValue"])
    row.paid_own = int(a["ownFunds"])


def _resolved(s: Session, a: dict[str, Any], ts: int, _block: int) -> None:
    row = _order(s, int(a["orderId"]))
    row.state = OrderState.RESOLVED.name.lower()
    row.settled_at = ts
    row.paid_own = int(a["ownFundsPaid"])
    if row.units:
        row.paid_voucher = row.voucher_value * int(a["unitsPaid"]) // row.units


def _service(s: Session, a: dict[str, Any], _ts: int, _block: int) -> None:
    s.add(
        ServiceRow(
            service_id=int(a["serviceId"]),
            institution_org=int(a["institutionOrg"]),
            category=int(a["category"]),
            price=int(a["price"]),
            listed_price=int(a["price"]),
            active=True,
            name=str(a["name"]),
        )
    )


def _service_updated(s: Session, a: dict[str, Any], _ts: int, _block: int) -> None:
    row = s.get(ServiceRow, int(a["serviceId"]))
    if row is not None:
        row.price, row.active = int(a["price"]), bool(a["active"])


def _profile(s: Session, a: dict[str, Any], _ts: int, _block: int) -> None:
    row = s.get(OrgRow, int(a["orgId"]))
    if row is not None:
        row.employees, row.industry = int(a["employees"]), int(a["industry"])
        row.affiliation = _hex(a["affiliation"])


def _status(s: Session, a: dict[str, Any], _ts: int, _block: int) -> None:
    row = s.get(OrgRow, int(a["orgId"]))
    if row is not None:
        row.status = int(a["status"])


def _account(active: bool) -> Callable[..., None]:
    def apply(s: Session, a: dict[str, Any], _ts: int, _block: int) -> None:
        s.merge(
            AccountRow(
                address=to_checksum_address(a["account"]), org_id=int(a["orgId"]), active=active
            )
        )

    return apply


def _money(**fields: str) -> Callable[..., None]:
    """Adds event args to program totals: ``row_field="argName"``; key ``program`` picks the arg
    naming the program (default ``programId``)."""
    program_arg = fields.pop("program", "programId")

    def apply(s: Session, a: dict[str, Any], _ts: int, _block: int) -> None:
        _add(s, int(a[program_arg]), **{f: int(a[arg]) for f, arg in fields.items()})

    return apply


def _closed(s: Session, a: dict[str, Any], _ts: int, _block: int) -> None:
    row = s.get(ProgramRow, int(a["programId"]))
    assert row is not None
    row.closed = True
    row.returned += int(a["remainingEscrow"])


def _rolled(s: Session, a: dict[str, Any], ts: int, block: int) -> None:
    _add(s, int(a["programId"]), rolled_over=int(a["amount"]))
    _add(s, int(a["targetId"]), rolled_in=int(a["amount"]))


_SIMPLE: dict[str, Callable[[Session, dict[str, Any], int, int], None]] = {
    "OrderPlaced": _placed,
    "OrderAccepted": _set_state(OrderState.ACCEPTED, "accepted_at"),
    "OrderDelivered": _set_state(OrderState.DELIVERED, "delivered_at"),
    "OrderRejected": _set_state(OrderState.REJECTED),
    "OrderCancelled": _set_state(OrderState.CANCELLED),
    "OrderDisputed": _set_state(OrderState.DISPUTED),
    "OrderExpired": _set_state(OrderState.EXPIRED),
    "OrderSettled": _settled,
    "DisputeResolved": _resolved,
    "ServiceListed": _service,
    "ServiceUpdated": _service_updated,
    "OrganisationProfileUpdated": _profile,
    "OrganisationStatusChanged": _status,
    "AccountAdded": _account(True),
    "AccountRemoved": _account(False),
    "ProgramFunded": _money(funded="amount"),
    "VouchersIssued": _money(issued_units="units", issued_value="value"),
    "VouchersRedeemed": _money(redeemed_units="units", redeemed_value="value", paid="value"),
    "RewardPaid": _money(paid="amount"),
    "VouchersRevoked": _money(revoked_units="units"),
    "VouchersExpired": _money(expired_units="units"),
    "ProgramClosed": _closed,
    "BudgetRolledOver": _rolled,
}


def apply_event(
    s: Session, name: str, args: dict[str, Any], ts: int, block: int, chain: ChainReader
) -> None:
    """Updates the projections for one decoded event (events without a projection: no-op)."""
    if name == "OrganisationRegistered":
        _org(s, args, ts, block, chain)
    elif name == "ProgramCreated":
        _program(s, args, ts, block, chain)
    elif name in _SIMPLE:
        _SIMPLE[name](s, args, ts, block)
    s.flush()

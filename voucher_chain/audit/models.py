"""The index's tables (SQLAlchemy 2.x): blocks, decoded events, raw logs, failed transactions,
and projections kept up to date from the events (organisations, services, programs, orders).

Money is in fen and stored as Python ints (``Numeric(38, 0)`` would also do on PostgreSQL; SQLite
keeps integers up to 2**63 exactly, far above any budget in fen).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccountRow",
    "Base",
    "BlockRow",
    "EventRow",
    "FailedTxRow",
    "OrderRow",
    "OrgRow",
    "ProgramRow",
    "RawLogRow",
    "ServiceRow",
]


#: Surrogate keys: BIGINT, INTEGER on SQLite (only ``INTEGER PRIMARY KEY`` autoincrements).
_ID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {int: BigInteger}


class BlockRow(Base):
    """One indexed block; the highest is the indexer's cursor."""

    __tablename__ = "audit_blocks"
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66), unique=True)
    parent_hash: Mapped[str] = mapped_column(String(66))
    timestamp: Mapped[int]
    tx_count: Mapped[int]
    failed_tx_count: Mapped[int]


class EventRow(Base):
    """A decoded protocol event; ``args`` is JSON (ints as decimal strings above 2**53)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("block_number", "tx_hash", "log_index", name="uq_event_position"),
        Index("ix_event_name", "name"),
    )
    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(ForeignKey("audit_blocks.number"))
    tx_hash: Mapped[str] = mapped_column(String(66))
    tx_index: Mapped[int]
    log_index: Mapped[int]
    timestamp: Mapped[int]
    contract: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    args: Mapped[str] = mapped_column(Text)


class RawLogRow(Base):
    """A log the indexer could not decode, kept as it came (never dropped) with the reason."""

    __tablename__ = "audit_raw_logs"
    __table_args__ = (
        UniqueConstraint("block_number", "tx_hash", "log_index", name="uq_raw_position"),
    )
    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(ForeignKey("audit_blocks.number"))
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int]
    address: Mapped[str] = mapped_column(String(42))
    topics: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(200))


class FailedTxRow(Base):
    """A mined transaction with status 0: the call, its sender's organisation and (when a replay
    of the call at the parent block reproduces it) the contract error that refused it."""

    __tablename__ = "audit_failed_txs"
    tx_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    block_number: Mapped[int] = mapped_column(ForeignKey("audit_blocks.number"))
    timestamp: Mapped[int]
    sender: Mapped[str] = mapped_column(String(42))
    sender_org: Mapped[int | None]
    contract: Mapped[str | None] = mapped_column(String(40))
    function: Mapped[str | None] = mapped_column(String(60))
    call_args: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(60))
    error_args: Mapped[str] = mapped_column(Text)


class OrgRow(Base):
    __tablename__ = "audit_orgs"
    org_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[int]
    region: Mapped[int]
    employees: Mapped[int]
    industry: Mapped[int]
    affiliation: Mapped[str] = mapped_column(String(66))
    status: Mapped[int]
    vault: Mapped[str] = mapped_column(String(42))
    registered_at: Mapped[int]


class AccountRow(Base):
    __tablename__ = "audit_accounts"
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    org_id: Mapped[int]
    active: Mapped[bool]


class ServiceRow(Base):
    __tablename__ = "audit_services"
    service_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    institution_org: Mapped[int]
    category: Mapped[int]
    price: Mapped[int]
    listed_price: Mapped[int]
    active: Mapped[bool]
    name: Mapped[str] = mapped_column(Text)


class ProgramRow(Base):
    """A program and its running totals, as the events tell them (fen; units as issued)."""

    __tablename__ = "audit_programs"
    program_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    issuer_org: Mapped[int]
    finance_org: Mapped[int]
    kind: Mapped[int]
    fiscal_year: Mapped[int]
    face_value: Mapped[int]
    per_holder_cap: Mapped[int]
    max_units: Mapped[int]
    full_cover_threshold: Mapped[int]
    created_at: Mapped[int]
    closed: Mapped[bool] = mapped_column(default=False)
    funded: Mapped[int] = mapped_column(default=0)
    rolled_in: Mapped[int] = mapped_column(default=0)
    paid: Mapped[int] = mapped_column(default=0)
    returned: Mapped[int] = mapped_column(default=0)
    rolled_over: Mapped[int] = mapped_column(default=0)
    issued_units: Mapped[int] = mapped_column(default=0)
    issued_value: Mapped[int] = mapped_column(default=0)
    redeemed_units: Mapped[int] = mapped_column(default=0)
    redeemed_value: Mapped[int] = mapped_column(default=0)
    revoked_units: Mapped[int] = mapped_column(default=0)
    expired_units: Mapped[int] = mapped_column(default=0)


class OrderRow(Base):
    __tablename__ = "audit_orders"
    order_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    program_id: Mapped[int] = mapped_column(index=True)
    enterprise_org: Mapped[int] = mapped_column(index=True)
    institution_org: Mapped[int] = mapped_column(index=True)
    service_id: Mapped[int]
    category: Mapped[int]
    units: Mapped[int]
    voucher_value: Mapped[int]
    own_funds: Mapped[int]
    price: Mapped[int]
    unit_price: Mapped[int]
    state: Mapped[str] = mapped_column(String(20))
    placed_at: Mapped[int]
    placed_block: Mapped[int]
    accepted_at: Mapped[int | None]
    delivered_at: Mapped[int | None]
    settled_at: Mapped[int | None]
    settle_method: Mapped[int | None]
    paid_voucher: Mapped[int] = mapped_column(default=0)
    paid_own: Mapped[int] = mapped_column(default=0)

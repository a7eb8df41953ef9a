"""Typed inputs and outputs of the domain services (pydantic v2).

Amounts are integers in fen (¥1 = 100 fen); regions are GB/T 2260 codes or patterns
(0 = national); times are unix seconds. Request ids are caller-chosen strings (an idempotency
key) or ``0x``-prefixed 32-byte hex; see :func:`request_id_bytes`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from web3 import Web3

from voucher_chain.contracts.types import (
    Category,
    KindMask,
    OrderState,
    OrgKind,
    OrgStatus,
    ProgramKind,
    ProgramTerms,
    SettlementMethod,
)

Fen = Annotated[int, Field(ge=0, lt=2**128, description="An amount in fen (¥1 = 100 fen).")]
Positive = Annotated[int, Field(gt=0, lt=2**128)]
Region = Annotated[int, Field(ge=110000, le=999999, description="A GB/T 2260 six-digit code.")]
RegionPattern = Annotated[
    int, Field(ge=0, le=999999, description="A GB/T 2260 code; 0 = national.")
]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
Id = Annotated[int, Field(gt=0, lt=2**64)]
RequestId = Annotated[str, Field(min_length=1, max_length=200)]


def request_id_bytes(request_id: str) -> bytes:
    """The bytes32 the contracts store for a request id: the hex itself, or keccak of the text."""
    if request_id.startswith("0x") and len(request_id) == 66:
        return bytes.fromhex(request_id[2:])
    return bytes(Web3.keccak(text=request_id))


def text_hash(value: str | None) -> bytes:
    """keccak256 of a text (a credit code, an affiliation group), or 32 zero bytes for none."""
    return bytes(Web3.keccak(text=value)) if value else b"\x00" * 32


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, use_enum_values=False)


class TxRef(_Model):
    """The transaction that did something; ``replayed`` when a retry found it already done."""

    tx_hash: str | None
    block_number: int | None
    replayed: bool = False


# -- organisations ----------------------------------------------------------------------------


class OrganisationCreate(_Model):
    kind: OrgKind
    region: Region
    credit_code: Annotated[str, Field(min_length=18, max_length=18)] = Field(
        description="The 18-character unified social credit code (统一社会信用代码)."
    )
    employees: Annotated[int, Field(ge=0, lt=2**32)] = 0
    industry: Annotated[int, Field(ge=0, lt=2**32)] = 0
    affiliation: str | None = Field(
        default=None, description="Declared affiliation group; related parties cannot trade."
    )
    account: Address

    @field_validator("kind")
    @classmethod
    def _registrable(cls, kind: OrgKind) -> OrgKind:
        if kind in (OrgKind.NONE, OrgKind.GOVERNOR):
            raise ValueError("only organisations other than the governor can be registered")
        return kind


class Organisation(_Model):
    id: Id
    kind: OrgKind
    status: OrgStatus
    region: int
    employees: int
    industry: int
    registrar: int
    credit_code_hash: str
    affiliation: str
    vault: Address
    accounts: list[Address]


# -- money ------------------------------------------------------------------------------------


class Deposit(_Model):
    account: Address
    amount: Positive
    reference: RequestId


# -- catalogue --------------------------------------------------------------------------------


class ServiceCreate(_Model):
    category: Annotated[int, Field(ge=0, le=255)]
    price: Positive
    name: Annotated[str, Field(min_length=1, max_length=200)]


class ServiceListing(_Model):
    id: Id
    institution_org: int
    category: int
    price: int
    name: str
    active: bool


# -- programs ---------------------------------------------------------------------------------


class ProgramCreate(_Model):
    """A program's terms; see :class:`voucher_chain.contracts.ProgramTerms`."""

    kind: ProgramKind = ProgramKind.VOUCHER
    fiscal_year: Annotated[int, Field(ge=2000, le=2200)]
    finance_org: Id
    face_value: Fen = 1
    per_holder_cap: Fen = 0
    min_units: Annotated[int, Field(ge=1, lt=2**32)] = 1
    max_units: Annotated[int, Field(ge=1, lt=2**32)] = 2**32 - 1
    share_bps: Annotated[int, Field(ge=1, le=10_000)] = 5_000
    full_cover_threshold: Fen = 0
    categories: Annotated[int, Field(gt=0, lt=2**256)] = Category.mask()
    spend_regions: list[RegionPattern] = Field(default_factory=lambda: [0], min_length=1)
    eligible_regions: list[RegionPattern] = Field(default_factory=lambda: [0], min_length=1)
    eligible_kinds: int = int(KindMask.VOUCHER_HOLDERS)
    max_employees: Annotated[int, Field(ge=0, lt=2**32)] = 0
    issue_start: Annotated[int, Field(ge=0, lt=2**64)]
    issue_end: Annotated[int, Field(ge=0, lt=2**64)]
    expiry: Annotated[int, Field(ge=0, lt=2**64)]
    settlement_deadline: Annotated[int, Field(ge=0, lt=2**64)]
    confirm_window: Annotated[int, Field(ge=0, lt=2**32)] = 7 * 24 * 3600

    def terms(self) -> ProgramTerms:
        return ProgramTerms(
            kind=self.kind,
            fiscal_year=self.fiscal_year,
            finance_org=self.finance_org,
            face_value=self.face_value,
            per_holder_cap=self.per_holder_cap,
            min_units=self.min_units,
            max_units=self.max_units,
            share_bps=self.share_bps,
            full_cover_threshold=self.full_cover_threshold,
            categories=self.categories,
            spend_regions=tuple(self.spend_regions),
            eligible_regions=tuple(self.eligible_regions),
            eligible_kinds=self.eligible_kinds,
            max_employees=self.max_employees,
            issue_start=self.issue_start,
            issue_end=self.issue_end,
            expiry=self.expiry,
            settlement_deadline=self.settlement_deadline,
            confirm_window=self.confirm_window,
        )


class ProgramBudget(_Model):
    """A program's money and vouchers. ``escrowed = funded + rolled_in − paid − returned``."""

    program_id: Id
    issuer_org: int
    closed: bool
    rollover_to: int
    funded: int
    rolled_in: int
    paid: int
    returned: int
    escrowed: int
    issued_units: int
    redeemed_units: int
    revoked_units: int
    expired_units: int
    outstanding_units: int
    outstanding_value: int


class Program(_Model):
    id: Id
    terms: ProgramCreate
    budget: ProgramBudget


class Issuance(_Model):
    program_id: Id
    enterprise_org: Id
    units: int
    value: int
    application_id: int
    tx: TxRef


class Application(_Model):
    id: Id
    program_id: Id
    enterprise_org: Id
    units: int
    status: str
    tx: TxRef | None = None


class VoucherBalance(_Model):
    """What an organisation holds of one program, and where and until when it can spend it."""

    program_id: Id
    units: int
    value: int
    face_value: int
    expiry: int
    spend_regions: list[int]
    categories: int
    max_share_bps: int


class VoucherMovement(_Model):
    """One change of an organisation's vouchers, with the transaction that made it."""

    kind: str = Field(description="issued, redeemed, revoked or expired")
    program_id: Id
    units: int
    value: int
    tx: TxRef


class CategoryInfo(_Model):
    id: Annotated[int, Field(ge=0, le=255)]
    name: str
    active: bool


# -- orders -----------------------------------------------------------------------------------


class OrderCreate(_Model):
    service_id: Id
    quantity: Annotated[int, Field(ge=1, lt=2**32)] = 1
    program_id: Id
    units: Annotated[int, Field(ge=0, lt=2**128)]
    own_funds: Fen
    request_id: RequestId


class Order(_Model):
    id: Id
    program_id: int
    service_id: int
    enterprise_org: int
    institution_org: int
    category: int
    state: OrderState
    placed_at: int
    delivered_at: int
    units: int
    price: int
    voucher_value: int
    own_funds: int
    deliverable_hash: str
    request_id: str
    tx: TxRef | None = None


class Settlement(_Model):
    """What an institution was paid for an order, and how."""

    order_id: Id
    institution_org: int
    voucher_value: int
    own_funds: int
    rewards: int
    method: SettlementMethod
    tx: TxRef


class OrderStep(_Model):
    """One step of an order's life (placed, accepted, delivered, settled, ...), with its
    transaction and the block's time."""

    step: str = Field(description="The event's name without 'Order': Placed, Settled, ...")
    tx: TxRef
    at: int = Field(description="Unix time of the block.")


class DisputeResolution(_Model):
    units: Annotated[int, Field(ge=0, lt=2**128)]
    own_funds: Fen

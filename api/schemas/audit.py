"""Response shapes of the regulator's /audit endpoints (amounts in fen, times in unix seconds)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from voucher_chain.audit.reports import Figures, ProgramFigures, RegionFigures

__all__ = [
    "AnomaliesPublic",
    "AnomalyPublic",
    "AuditStatus",
    "BlockDetail",
    "BlockSummary",
    "BlocksPublic",
    "CategoriesReport",
    "EnterprisesReport",
    "ExportCreate",
    "ExportPublic",
    "FlowsReport",
    "InstitutionsReport",
    "LatencyReport",
    "MonthlyReport",
    "SummaryReport",
    "TransactionDetail",
]


class Anchored(BaseModel):
    """Every answer names the indexed block it covers (the index catches up before answering)."""

    indexed_block: int = Field(ge=-1, description="-1 before anything is indexed")
    indexed_hash: str | None


class SummaryReport(Anchored):
    totals: Figures
    programs: list[ProgramFigures]
    regions: list[RegionFigures]


class CategoryRow(BaseModel):
    category: int
    orders: int
    settled: int
    voucher_paid: int
    own_funds_paid: int
    total_paid: int


class CategoriesReport(Anchored):
    data: list[CategoryRow]


class InstitutionRow(BaseModel):
    institution_org: int
    region: int
    services: int
    voucher_paid: int
    own_funds_paid: int
    total_paid: int
    avg_days_order_to_payment: float


class InstitutionsReport(Anchored):
    data: list[InstitutionRow]


class SizeRow(BaseModel):
    band: str
    enterprises: int
    share: float
    issued: int
    used: int


class IndustryRow(BaseModel):
    industry: int = Field(description="GB/T 4754 code as the registry records it")
    enterprises: int
    share: float
    issued: int
    used: int


class EnterprisesReport(Anchored):
    by_size: list[SizeRow]
    by_industry: list[IndustryRow]


class FlowRow(BaseModel):
    issuer_region: int
    institution_region: int
    orders: int
    voucher_paid: int


class FlowsReport(Anchored):
    data: list[FlowRow]


class LatencyStats(BaseModel):
    count: int
    mean: float
    p50: float
    p90: float
    max: int


class LatencyReport(Anchored):
    order_to_delivery: LatencyStats
    delivery_to_confirmation: LatencyStats
    confirmation_to_payment: LatencyStats
    order_to_payment: LatencyStats


class MonthRow(BaseModel):
    region: int
    month: str = Field(examples=["2026-03"])
    issued: int
    used: int
    usage_rate: float


class MonthlyReport(Anchored):
    data: list[MonthRow]


class AnomalyPublic(BaseModel):
    rule: str
    subject: str
    explanation: str
    numbers: dict[str, Any]
    orders: list[int]
    orgs: list[int]


class AnomaliesPublic(Anchored):
    data: list[AnomalyPublic]
    count: int


class AuditStatus(Anchored):
    chain_head: int
    lag_blocks: int
    events: int
    raw_logs: int = Field(description="Logs kept undecoded (see /audit/blocks/{n}.raw_logs)")
    failed_txs: int
    last_error: str | None


class BlockSummary(BaseModel):
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    tx_count: int
    failed_tx_count: int


class BlocksPublic(Anchored):
    data: list[BlockSummary]
    count: int


class EventPublic(BaseModel):
    log_index: int
    contract: str
    name: str
    args: dict[str, Any]


class FailurePublic(BaseModel):
    tx_hash: str
    sender: str
    sender_org: int | None
    contract: str | None
    function: str | None
    call_args: dict[str, Any]
    error: str | None
    error_args: dict[str, Any]


class TransactionDetail(BaseModel):
    tx_hash: str
    block_number: int
    tx_index: int
    status: int
    events: list[EventPublic]
    failure: FailurePublic | None = None


class RawLogPublic(BaseModel):
    tx_hash: str
    log_index: int
    address: str
    topics: list[str]
    data: str
    reason: str


class BlockDetail(BlockSummary):
    transactions: list[TransactionDetail]
    failed_transactions: list[FailurePublic]
    raw_logs: list[RawLogPublic]


class ExportCreate(BaseModel):
    region: int | None = Field(default=None, ge=0, lt=1_000_000)
    program_id: int | None = Field(default=None, gt=0, lt=2**64)
    fiscal_year: int | None = Field(default=None, ge=1900, le=2200)
    since: int | None = Field(default=None, ge=0, lt=2**63)
    until: int | None = Field(default=None, ge=0, lt=2**63)


class ExportPublic(BaseModel):
    document: dict[str, Any]
    signer: str
    signature: str

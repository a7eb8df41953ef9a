"""The regulator's audit: reports (JSON, CSV or a printable table), anomalies, the transaction
explorer and signed exports, over the audit index of this API's chain.

The index lives next to the API's database (``audit.sqlite3``). The first /audit request starts
an indexer thread that follows the chain; every request also catches the index up to the head
before answering, and each answer names the block it covers (``indexed_block``/``indexed_hash``).
Regulators only: issuers see their programs through /programs.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import Ctx, Pagination, RegulatorOrg
from api.errors import NotFound
from api.schemas.audit import (
    AnomaliesPublic,
    AuditStatus,
    BlockDetail,
    BlocksPublic,
    CategoriesReport,
    EnterprisesReport,
    ExportCreate,
    ExportPublic,
    FlowsReport,
    InstitutionsReport,
    LatencyReport,
    MonthlyReport,
    SummaryReport,
    TransactionDetail,
)
from voucher_chain.audit import anomalies, explorer, reports
from voucher_chain.audit.export import build_export
from voucher_chain.audit.render import to_csv, to_table
from voucher_chain.audit.service import AuditService
from voucher_chain.signer import LocalSigner

router = APIRouter(prefix="/audit", tags=["audit"])

_lock = threading.Lock()
Format = Literal["json", "csv", "table"]
_TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, "text/plain": {}}, "description": "The report"}
}


def audit_service(request: Request, ctx: Ctx) -> AuditService:
    """The app's audit index (created, and its follower started, on first use)."""
    with _lock:
        service: AuditService | None = getattr(request.app.state, "audit", None)
        if service is None:
            database = ctx.settings.database_path.with_name("audit.sqlite3")
            service = AuditService(ctx.protocol, database).start()
            request.app.state.audit = service
            # The follower stops with the app: at shutdown, or when the app is collected
            # (test servers run without lifespan events).
            weakref.finalize(request.app, service.stop_soon)
    return service


Audit = Annotated[AuditService, Depends(audit_service)]


def session(_principal: RegulatorOrg, audit: Audit) -> Iterator[Session]:
    """A read session on the index, caught up to the chain's head (regulators only)."""
    audit.catch_up()
    with audit.session() as s:
        yield s


Db = Annotated[Session, Depends(session)]


def filters(
    region: Annotated[
        int | None, Query(ge=0, lt=1_000_000, description="Issuer region pattern")
    ] = None,
    program_id: Annotated[int | None, Query(gt=0, lt=2**64)] = None,
    fiscal_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    since: Annotated[int | None, Query(ge=0, lt=2**63, description="unix s, inclusive")] = None,
    until: Annotated[int | None, Query(ge=0, lt=2**63, description="unix s, exclusive")] = None,
) -> reports.Filters:
    return reports.Filters(region, program_id, fiscal_year, since, until)


Filters = Annotated[reports.Filters, Depends(filters)]
Fmt = Annotated[Format, Query(description="json (default), csv, or a printable table")]


def _anchor(s: Session) -> dict[str, Any]:
    top = reports.head(s)
    return {"indexed_block": top[0] if top else -1, "indexed_hash": top[1] if top else None}


def _body(model: type[BaseModel], s: Session, **fields: Any) -> dict[str, Any]:
    """The JSON body: the model validated from the report and the indexed head."""
    return model.model_validate({**_anchor(s), **fields}).model_dump(mode="json")


def _render(fmt: Format, rows: list[dict[str, Any]], body: dict[str, Any]) -> Response:
    if fmt == "csv":
        return PlainTextResponse(to_csv(rows), media_type="text/csv")
    if fmt == "table":
        return PlainTextResponse(to_table(rows))
    return JSONResponse(body)


@router.get("/reports/summary", response_model=SummaryReport, responses=_TEXT)
def summary(s: Db, f: Filters, format: Fmt = "json") -> Response:
    """Budget, escrowed, issued, redeemed, usage rate, outstanding, expired, returned, rolled
    over: in total, per program and per issuer province."""
    r = reports.summary_report(s, f)
    body = SummaryReport.model_validate({**_anchor(s), **r}).model_dump(mode="json")
    rows = [
        {"scope": "total", **r["totals"].model_dump()},
        *({"scope": "region", **x.model_dump()} for x in r["regions"]),
        *({"scope": "program", **x.model_dump()} for x in r["programs"]),
    ]
    return _render(format, rows, body)


@router.get("/reports/categories", response_model=CategoriesReport, responses=_TEXT)
def categories(s: Db, f: Filters, format: Fmt = "json") -> Response:
    """Per service category: orders placed, settled, and amounts paid."""
    rows = reports.category_report(s, f)
    return _render(format, rows, _body(CategoriesReport, s, data=rows))


@router.get("/reports/institutions", response_model=InstitutionsReport, responses=_TEXT)
def institutions(s: Db, f: Filters, format: Fmt = "json") -> Response:
    """Per institution: services settled, amounts, average days from order to payment."""
    rows = reports.institution_report(s, f)
    return _render(format, rows, _body(InstitutionsReport, s, data=rows))


@router.get("/reports/enterprises", response_model=EnterprisesReport, responses=_TEXT)
def enterprises(s: Db, f: Filters, format: Fmt = "json") -> Response:
    """Enterprises issued vouchers by staff band and by industry, with value issued and used."""
    r = reports.enterprise_report(s, f)
    rows = [
        *({"group": "size", **x} for x in r["by_size"]),
        *({"group": "industry", **x} for x in r["by_industry"]),
    ]
    return _render(format, rows, _body(EnterprisesReport, s, **r))


@router.get("/reports/flows", response_model=FlowsReport, responses=_TEXT)
def flows(s: Db, f: Filters, format: Fmt = "json") -> Response:
    """The cross-region matrix: issuer province → institution province."""
    rows = reports.flow_report(s, f)
    return _render(format, rows, _body(FlowsReport, s, data=rows))


@router.get("/reports/latency", response_model=LatencyReport, responses=_TEXT)
def latency(s: Db, f: Filters, format: Fmt = "json") -> Response:
    """Seconds from order to delivery, delivery to confirmation, and order to payment."""
    r = reports.latency_report(s, f)
    rows = [{"stage": k, **v} for k, v in r.items()]
    return _render(format, rows, _body(LatencyReport, s, **r))


@router.get("/reports/monthly", response_model=MonthlyReport, responses=_TEXT)
def monthly(s: Db, f: Filters, format: Fmt = "json") -> Response:
    """Issued vs used voucher value per issuer province per month (UTC)."""
    rows = reports.monthly_report(s, f)
    return _render(format, rows, _body(MonthlyReport, s, data=rows))


@router.get("/anomalies")
def list_anomalies(
    s: Db,
    page: Pagination,
    rule: Annotated[str | None, Query(max_length=40)] = None,
) -> AnomaliesPublic:
    """Findings of every anomaly rule (thresholds from VOUCHER_CHAIN_AUDIT_* settings)."""
    found = [a for a in anomalies.detect(s) if rule is None or a.rule == rule]
    data = [a.__dict__ for a in found[page.offset : page.offset + page.limit]]
    return AnomaliesPublic.model_validate({**_anchor(s), "data": data, "count": len(found)})


@router.get("/status")
def status(s: Db, audit: Audit) -> AuditStatus:
    """The indexed head, the chain's head, the lag and what the index holds."""
    chain_head = int(audit.indexer.w3.eth.block_number)
    anchor = _anchor(s)
    return AuditStatus.model_validate(
        {
            **anchor,
            "chain_head": chain_head,
            "lag_blocks": max(0, chain_head - anchor["indexed_block"]),
            "last_error": audit.last_error,
            **explorer.counts(s),
        }
    )


@router.get("/blocks")
def blocks(s: Db, page: Pagination) -> BlocksPublic:
    """Indexed blocks, newest first."""
    rows, total = explorer.blocks_page(s, page.offset, page.limit)
    return BlocksPublic.model_validate({**_anchor(s), "data": rows, "count": total})


@router.get("/blocks/{number}")
def block(s: Db, number: Annotated[int, Path(ge=0, lt=2**63)]) -> BlockDetail:
    """A block with its transactions and their decoded events, failed transactions and logs
    kept undecoded."""
    found = explorer.block_detail(s, number)
    if found is None:
        raise NotFound(f"block {number} is not indexed", number=number)
    return BlockDetail.model_validate(found)


@router.get("/transactions/{tx_hash}")
def transaction(
    s: Db, tx_hash: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")]
) -> TransactionDetail:
    """A transaction's decoded events (or, for a failed one, its call and error)."""
    found = explorer.transaction_detail(s, tx_hash)
    if found is None:
        raise NotFound(f"no indexed transaction {tx_hash}", tx_hash=tx_hash)
    return TransactionDetail.model_validate(found)


@router.post("/exports", status_code=201)
def export(ctx: Ctx, principal: RegulatorOrg, s: Db, body: ExportCreate) -> ExportPublic:
    """The summary report at the indexed head, anchored to its block number and hash and
    signed (EIP-191) by the regulator's custodial key; re-check it with
    ``voucher-chain audit check-export FILE --rpc URL --deployment FILE``."""
    account = ctx.actor(principal)
    assert ctx.keystore is not None  # actor() found a held key
    signer = LocalSigner(ctx.keystore)
    result = build_export(
        s,
        int(ctx.protocol.w3.eth.chain_id),
        reports.Filters(**body.model_dump()),
        account,
        lambda text: signer.sign_message(account, text),
    )
    return ExportPublic.model_validate(result)

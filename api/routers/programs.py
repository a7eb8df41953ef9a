"""Programs: created by an issuer, funded by its finance bureau, readable by every member."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from api.auth import Principal
from api.deps import (
    Client,
    Ctx,
    CurrentOrg,
    FinanceOrg,
    Idempotent,
    IssuerOrg,
    Pagination,
    require_kinds,
)
from api.errors import NotFound
from api.schemas.common import Paged
from api.schemas.resources import FundCreate, IssueCreate
from voucher_chain.contracts import OrgKind
from voucher_chain.services import Issuance, Program, ProgramBudget, ProgramCreate, TxRef

router = APIRouter(prefix="/programs", tags=["programs"])

ProgramId = Annotated[int, Path(gt=0, lt=2**64)]
CloserOrg = Annotated[Principal, Depends(require_kinds(OrgKind.ISSUER, OrgKind.FINANCE))]


def _existing(client: Client, program_id: int) -> None:
    if program_id > client.programs.count():
        raise NotFound(f"no program {program_id}", program_id=program_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(ctx: Ctx, principal: IssuerOrg, body: ProgramCreate) -> Program:
    """Creates a program with the caller (an issuer) as its issuer."""
    return ctx.client.programs.create(ctx.actor(principal), body)


@router.get("")
def list_programs(client: Client, _: CurrentOrg, page: Pagination) -> Paged[Program]:
    count = client.programs.count()
    ids = range(1 + page.offset, min(count, page.offset + page.limit) + 1)
    return Paged[Program](data=[client.programs.get(i) for i in ids], count=count)


@router.get("/{program_id}")
def get(client: Client, _: CurrentOrg, program_id: ProgramId) -> Program:
    _existing(client, program_id)
    return client.programs.get(program_id)


@router.get("/{program_id}/status")
def budget(client: Client, _: CurrentOrg, program_id: ProgramId) -> ProgramBudget:
    """The program's money and vouchers: funded, paid, returned, escrowed, outstanding."""
    _existing(client, program_id)
    return client.programs.budget(program_id)


@router.post("/{program_id}/fund", response_model=TxRef)
def fund(
    ctx: Ctx, principal: FinanceOrg, program_id: ProgramId, body: FundCreate, once: Idempotent
) -> Response:
    """Escrows ``amount`` fen of the finance bureau's settlement tokens in the program."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.programs.fund(actor, program_id, body.amount))


@router.post("/{program_id}/issue", response_model=Issuance, status_code=201)
def issue(
    ctx: Ctx, principal: IssuerOrg, program_id: ProgramId, body: IssueCreate, once: Idempotent
) -> Response:
    """Issues vouchers directly to an eligible enterprise."""
    actor = ctx.actor(principal)
    request_id = once.request_id()
    return once.run(
        lambda: ctx.client.programs.issue(
            actor, program_id, body.enterprise_org, body.units, request_id
        ),
        status_code=201,
    )


@router.post("/{program_id}/close", response_model=TxRef)
def close(ctx: Ctx, principal: CloserOrg, program_id: ProgramId, once: Idempotent) -> Response:
    """Closes a program after its settlement deadline, once no order is open: outstanding
    vouchers expire and the remaining escrow returns to finance (or rolls over)."""
    actor = ctx.actor(principal)
    return once.run(lambda: ctx.client.programs.close(actor, program_id))

"""The source document's scenarios, through the services layer (the contract-level versions are
in tests/contracts/test_scenarios.py)."""

from __future__ import annotations

import pytest
from web3 import Web3

from tests.world import (
    BEIJING,
    CHANGXING,
    DAY,
    SHANGHAI,
    SHANGHAI_PUDONG,
    WUHAN,
    YUAN,
    Org,
    World,
    reverts,
)
from voucher_chain.contracts import Category
from voucher_chain.services import (
    OrderCreate,
    ProgramCreate,
    ServiceCreate,
    VoucherClient,
)


def _program(
    world: World, client: VoucherClient, issuer: Org, finance: Org, budget: int, **terms: object
) -> int:
    t = world.terms(finance)
    create = ProgramCreate(
        fiscal_year=t.fiscal_year,
        finance_org=finance.id,
        issue_start=t.issue_start,
        issue_end=t.issue_end,
        expiry=t.expiry,
        settlement_deadline=t.settlement_deadline,
        **terms,  # type: ignore[arg-type]
    )
    program_id = client.programs.create(issuer.account, create).id
    world.deposit(finance, budget)
    client.programs.fund(finance.account, program_id, budget)
    return program_id


def _service(client: VoucherClient, inst: Org, price: int) -> int:
    create = ServiceCreate(category=Category.TESTING, price=price, name="inspection")
    return client.catalogue.list_service(inst.account, create).id


def _order(service_id: int, program_id: int, units: int, own: int, rid: str) -> OrderCreate:
    return OrderCreate(
        service_id=service_id, program_id=program_id, units=units, own_funds=own, request_id=rid
    )


@pytest.mark.parametrize(("units", "accepted"), [(0, False), (1, True), (40, True), (41, False)])
def test_beijing_fixed_face_vouchers_one_to_forty(
    world: World, client: VoucherClient, units: int, accepted: bool
) -> None:
    issuer, finance = world.issuer(BEIJING), world.finance(BEIJING)
    program_id = _program(
        world,
        client,
        issuer,
        finance,
        1_000_000 * YUAN,
        face_value=5_000 * YUAN,
        min_units=1,
        max_units=40,
        spend_regions=[BEIJING],
        eligible_regions=[BEIJING],
    )
    ent, inst = world.enterprise(BEIJING), world.institution(BEIJING)
    client.programs.issue(issuer.account, program_id, ent.id, 41, "bj")
    price = 2 * 41 * 5_000 * YUAN
    world.deposit(ent, price)
    service_id = _service(client, inst, price)
    order = _order(service_id, program_id, units, price - units * 5_000 * YUAN, f"o{units}")
    if accepted:
        placed = client.orders.place(ent.account, order)
        assert placed.voucher_value == units * 5_000 * YUAN
    else:
        with reverts("ProgramUnitsOutOfRange", units=units, minUnits=1, maxUnits=40):
            client.orders.place(ent.account, order)


def test_shanghai_cap_of_100000_yuan_one_fen_over_refused(
    world: World, client: VoucherClient
) -> None:
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program_id = _program(
        world, client, issuer, finance, 1_000_000 * YUAN, per_holder_cap=100_000 * YUAN
    )
    ent = world.enterprise(SHANGHAI_PUDONG)
    app = client.programs.apply(ent.account, program_id, 100_000 * YUAN, "apply")
    assert client.programs.approve(issuer.account, app.id).value == 100_000 * YUAN
    with reverts("ProgramHolderCapExceeded", requested=1, remaining=0):
        client.programs.issue(issuer.account, program_id, ent.id, 1, "one-fen-more")


def test_own_funds_must_cover_the_programs_share(world: World, client: VoucherClient) -> None:
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program_id = _program(world, client, issuer, finance, 1_000_000 * YUAN, share_bps=5_000)
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    client.programs.issue(issuer.account, program_id, ent.id, 10_000 * YUAN, "i")
    world.deposit(ent, 10_000 * YUAN)
    service_id = _service(client, inst, 10_000 * YUAN)
    with reverts(
        "ProgramVoucherShareExceeded", voucherValue=5_100 * YUAN, maxVoucherValue=5_000 * YUAN
    ):
        client.orders.place(
            ent.account, _order(service_id, program_id, 5_100 * YUAN, 4_900 * YUAN, "51")
        )
    placed = client.orders.place(
        ent.account, _order(service_id, program_id, 5_000 * YUAN, 5_000 * YUAN, "50")
    )
    assert placed.voucher_value == placed.own_funds == 5_000 * YUAN


def test_changxing_in_shanghai_accepted_beijing_refused_national_anywhere(
    world: World, client: VoucherClient
) -> None:
    cx_issuer, cx_fin = world.issuer(CHANGXING), world.finance(CHANGXING)
    cx = _program(
        world, client, cx_issuer, cx_fin, 100_000 * YUAN, spend_regions=[CHANGXING, SHANGHAI]
    )
    bj_issuer, bj_fin = world.issuer(BEIJING), world.finance(BEIJING)
    bj = _program(world, client, bj_issuer, bj_fin, 100_000 * YUAN, spend_regions=[BEIJING])
    nat = _program(world, client, bj_issuer, bj_fin, 100_000 * YUAN, spend_regions=[0])
    ent = world.enterprise(CHANGXING)
    for issuer, program_id in ((cx_issuer, cx), (bj_issuer, bj), (bj_issuer, nat)):
        client.programs.issue(issuer.account, program_id, ent.id, 10_000 * YUAN, f"i{program_id}")
    world.deposit(ent, 100_000 * YUAN)
    shanghai = _service(client, world.institution(SHANGHAI_PUDONG), 2_000 * YUAN)
    client.orders.place(ent.account, _order(shanghai, cx, 1_000 * YUAN, 1_000 * YUAN, "cx"))
    with reverts("ProgramRegionNotAllowed", programId=bj, institutionRegion=SHANGHAI_PUDONG):
        client.orders.place(ent.account, _order(shanghai, bj, 1_000 * YUAN, 1_000 * YUAN, "bj"))
    for region in (WUHAN, BEIJING, SHANGHAI):
        service_id = _service(client, world.institution(region), 2_000 * YUAN)
        rid = f"nat-{region}"
        client.orders.place(ent.account, _order(service_id, nat, 1_000 * YUAN, 1_000 * YUAN, rid))


def test_related_parties_refused(world: World, client: VoucherClient) -> None:
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program_id = _program(world, client, issuer, finance, 100_000 * YUAN)
    group = Web3.keccak(text="Shanghai Holdings Group")
    ent = world.enterprise(SHANGHAI, affiliation=group)
    inst = world.institution(SHANGHAI, affiliation=group)
    client.programs.issue(issuer.account, program_id, ent.id, 1_000 * YUAN, "i")
    world.deposit(ent, 1_000 * YUAN)
    service_id = _service(client, inst, 2_000 * YUAN)
    with reverts("OrderRelatedParties", enterpriseOrg=ent.id, institutionOrg=inst.id):
        client.orders.place(
            ent.account, _order(service_id, program_id, 1_000 * YUAN, 1_000 * YUAN, "rel")
        )


def test_closed_program_returns_exactly_the_unused_escrow(
    world: World, client: VoucherClient
) -> None:
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program_id = _program(world, client, issuer, finance, 100_000 * YUAN)
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    client.programs.issue(issuer.account, program_id, ent.id, 30_000 * YUAN, "i")
    world.deposit(ent, 10_000 * YUAN)
    service_id = _service(client, inst, 20_000 * YUAN)
    order = client.orders.place(
        ent.account, _order(service_id, program_id, 10_000 * YUAN, 10_000 * YUAN, "o")
    )
    client.orders.accept(inst.account, order.id)
    client.orders.deliver(inst.account, order.id, Web3.keccak(text="report"))
    client.orders.confirm(ent.account, order.id)
    world.travel(331 * DAY)
    before = client.money.balance(finance.account)
    client.programs.close(finance.account, program_id)
    budget = client.programs.budget(program_id)
    assert client.money.balance(finance.account) - before == 90_000 * YUAN
    assert budget.closed and budget.escrowed == 0 and budget.outstanding_units == 0
    assert budget.returned == 90_000 * YUAN and budget.expired_units == 20_000 * YUAN
    assert client.programs.balances(ent.account) == []

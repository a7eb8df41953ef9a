"""The whole path once: register, fund, issue, order, deliver, confirm → instant settlement."""

from __future__ import annotations

from tests.world import BEIJING, SHANGHAI, YUAN, World, reverts
from voucher_chain.contracts import Category, OrderState


def test_confirm_pays_the_institution_in_the_same_transaction(world: World) -> None:
    issuer = world.issuer(SHANGHAI)
    finance = world.finance(SHANGHAI)
    program_id = world.program(
        issuer,
        finance,
        per_holder_cap=100_000 * YUAN,
        spend_regions=(SHANGHAI,),
        eligible_regions=(SHANGHAI,),
    )
    ent = world.enterprise(SHANGHAI)
    inst = world.institution(SHANGHAI)
    world.deposit(ent, 5_000 * YUAN)
    world.issue(issuer, program_id, ent, 5_000 * YUAN)
    service_id = world.list_service(inst, Category.TESTING, 10_000 * YUAN)
    order_id = world.place(ent, service_id, program_id, 5_000 * YUAN, 5_000 * YUAN)
    world.deliver(inst, order_id)
    before = world.balance(inst)
    receipt = world.send(world.p.orders.functions.confirm(order_id), ent)
    assert world.balance(inst) - before == 10_000 * YUAN
    settled = world.event(receipt, world.p.orders, "OrderSettled")
    assert settled["voucherValue"] == 5_000 * YUAN and settled["ownFunds"] == 5_000 * YUAN
    assert world.order(order_id)[5] == OrderState.SETTLED


def test_beijing_vouchers_refused_in_shanghai(world: World) -> None:
    issuer = world.issuer(BEIJING)
    finance = world.finance(BEIJING)
    program_id = world.program(
        issuer,
        finance,
        face_value=5_000 * YUAN,
        min_units=1,
        max_units=40,
        spend_regions=(BEIJING,),
        eligible_regions=(BEIJING,),
    )
    ent = world.enterprise(BEIJING)
    inst = world.institution(SHANGHAI)
    world.issue(issuer, program_id, ent, 2)
    world.deposit(ent, 10_000 * YUAN)
    service_id = world.list_service(inst, Category.TESTING, 20_000 * YUAN)
    with reverts("ProgramRegionNotAllowed", programId=program_id, institutionRegion=SHANGHAI):
        world.place(ent, service_id, program_id, 2, 10_000 * YUAN)

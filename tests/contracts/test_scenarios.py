"""The source document's scenarios, end to end, with its real numbers.

《"创新券"如何更好撬动企业研发》: Beijing's ¥5,000 vouchers (1 to 40 per use), Shanghai's electronic
quota of at most ¥100,000 per enterprise that is applied for first, own funds matching the
vouchers, Changxing county's vouchers spent in Shanghai, no hardware, no trading between related
parties, vouchers that cannot change hands, Zhejiang's reward for innovation carriers -- and the
fixes it asks for: redemption in the same transaction, and a budget year that closes cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from web3 import Web3

from tests.world import (
    BEIJING,
    BEIJING_HAIDIAN,
    CHANGXING,
    DAY,
    HANGZHOU,
    SHANGHAI,
    SHANGHAI_PUDONG,
    WUHAN,
    YUAN,
    ZHEJIANG,
    Org,
    World,
    reverts,
)
from voucher_chain.contracts import (
    DEFAULT_CATEGORIES,
    Category,
    OrderState,
    OrgKind,
    ProgramKind,
    SettlementMethod,
    call,
)

FACE = 5_000 * YUAN  # a Beijing voucher
CAP = 100_000 * YUAN  # Shanghai: per enterprise
WENLING = 331081  # 温岭市, Taizhou, Zhejiang
PENDING, APPROVED = 1, 2  # ApplicationStatus


@dataclass(frozen=True)
class Scene:
    issuer: Org
    finance: Org
    program: int
    ent: Org
    inst: Org


def beijing(world: World, vouchers: int = 41, **terms: Any) -> Scene:
    """Beijing: ¥5,000 vouchers, 1-40 per use, half the price from the enterprise's own funds."""
    issuer, finance = world.issuer(BEIJING), world.finance(BEIJING)
    terms = {"spend_regions": (BEIJING,), "eligible_regions": (BEIJING,), **terms}
    program = world.program(
        issuer, finance, face_value=FACE, min_units=1, max_units=40, share_bps=5_000, **terms
    )
    ent, lab = world.enterprise(BEIJING_HAIDIAN), world.institution(BEIJING_HAIDIAN)
    if vouchers:
        world.issue(issuer, program, ent, vouchers)
    world.deposit(ent, 1_000_000 * YUAN)
    return Scene(issuer, finance, program, ent, lab)


def shanghai(world: World) -> Scene:
    """Shanghai: an electronic quota in fen, at most ¥100,000 per enterprise, vouchers <= 50%."""
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program = world.program(
        issuer,
        finance,
        face_value=1,
        per_holder_cap=CAP,
        share_bps=5_000,
        spend_regions=(SHANGHAI,),
        eligible_regions=(SHANGHAI,),
    )
    ent, platform = world.enterprise(SHANGHAI_PUDONG), world.institution(SHANGHAI_PUDONG)
    world.deposit(ent, 1_000_000 * YUAN)
    return Scene(issuer, finance, program, ent, platform)


def place(world: World, s: Scene, service: int, units: int, own: int) -> Any:
    """Places an order; returns the receipt."""
    fn = world.p.orders.functions.placeOrder(service, 1, s.program, units, own, world.request_id())
    return world.send(fn, s.ent)


def holdings(world: World, s: Scene) -> tuple[int, ...]:
    """What a refused order must leave untouched."""
    p = world.p
    return (
        world.vouchers(s.ent, s.program),
        world.balance(s.ent),
        world.balance(p.orders.address),
        call(p.orders.functions.orderCount()),
        call(p.orders.functions.openOrders(s.program)),
    )


# -- Beijing: fixed face value, 1 to 40 vouchers per use ----------------------------------------


def test_beijing_order_may_use_one_voucher_or_forty(world: World) -> None:
    s = beijing(world)
    small = world.list_service(s.inst, Category.TESTING, 10_000 * YUAN)
    large = world.list_service(s.inst, Category.COOPERATIVE_RD, 400_000 * YUAN)
    one = world.event(place(world, s, small, 1, 5_000 * YUAN), world.p.orders, "OrderPlaced")
    forty = world.event(place(world, s, large, 40, 200_000 * YUAN), world.p.orders, "OrderPlaced")
    assert (one["units"], one["voucherValue"], one["ownFunds"]) == (1, FACE, 5_000 * YUAN)
    assert (forty["units"], forty["voucherValue"]) == (40, 200_000 * YUAN)
    assert world.vouchers(s.ent, s.program) == 0  # 41 issued, all locked in the two orders
    assert world.vouchers(world.p.orders.address, s.program) == 41
    assert world.balance(world.p.orders.address) == 205_000 * YUAN


@pytest.mark.parametrize("units", [0, 41])
def test_beijing_order_with_zero_or_forty_one_vouchers_is_refused(world: World, units: int) -> None:
    s = beijing(world)
    service = world.list_service(s.inst, Category.TESTING, 500_000 * YUAN)
    before = holdings(world, s)
    with reverts(
        "ProgramUnitsOutOfRange", programId=s.program, units=units, minUnits=1, maxUnits=40
    ):
        place(world, s, service, units, 500_000 * YUAN - units * FACE)
    assert holdings(world, s) == before


def test_beijing_start_up_teams_qualify_but_not_larger_firms(world: World) -> None:
    s = beijing(world, vouchers=0, max_employees=100)
    team = world.enterprise(BEIJING, employees=3, kind=OrgKind.STARTUP_TEAM)
    issued = world.event(
        world.issue(s.issuer, s.program, team, 4), world.p.programs, "VouchersIssued"
    )
    assert (issued["enterpriseOrg"], issued["units"], issued["value"]) == (team.id, 4, 4 * FACE)
    big = world.enterprise(BEIJING, employees=250)
    with reverts("ProgramIneligibleSize", orgId=big.id, employees=250, maxEmployees=100):
        world.issue(s.issuer, s.program, big, 1)
    assert world.vouchers(big, s.program) == 0


# -- Shanghai: electronic quota, capped per enterprise, applied for first ------------------------


def test_shanghai_issues_exactly_the_100000_yuan_cap_and_not_one_fen_more(world: World) -> None:
    s = shanghai(world)
    issued = world.event(
        world.issue(s.issuer, s.program, s.ent, CAP), world.p.programs, "VouchersIssued"
    )
    assert (issued["units"], issued["value"]) == (CAP, CAP)
    before = (world.vouchers(s.ent, s.program), world.state(s.program)[7])  # issuedUnits
    with reverts("ProgramHolderCapExceeded", orgId=s.ent.id, requested=1, remaining=0):
        world.issue(s.issuer, s.program, s.ent, 1)
    assert (world.vouchers(s.ent, s.program), world.state(s.program)[7]) == before
    other = world.enterprise(SHANGHAI)  # the cap is per enterprise
    world.issue(s.issuer, s.program, other, CAP)
    assert world.vouchers(other, s.program) == CAP


@pytest.mark.parametrize(
    ("already", "requested", "remaining"),
    [(0, CAP + 1, CAP), (60_000 * YUAN, 50_000 * YUAN, 40_000 * YUAN), (CAP, 1, 0)],
)
def test_shanghai_cap_refusal_states_what_is_left(
    world: World, already: int, requested: int, remaining: int
) -> None:
    s = shanghai(world)
    if already:
        world.issue(s.issuer, s.program, s.ent, already)
    with reverts(
        "ProgramHolderCapExceeded",
        programId=s.program,
        orgId=s.ent.id,
        requested=requested,
        remaining=remaining,
    ):
        world.issue(s.issuer, s.program, s.ent, requested)
    assert world.vouchers(s.ent, s.program) == already


def test_shanghai_apply_first_then_the_issuer_approves(world: World) -> None:
    s, p = shanghai(world), world.p.programs
    request = world.request_id()
    receipt = world.send(p.functions.applyForVouchers(s.program, 30_000 * YUAN, request), s.ent)
    applied = world.event(receipt, p, "ApplicationSubmitted")
    app = applied["applicationId"]
    assert (applied["enterpriseOrg"], applied["units"], applied["requestId"]) == (
        s.ent.id,
        30_000 * YUAN,
        request,
    )
    assert call(p.functions.application(app))[3] == PENDING
    assert world.vouchers(s.ent, s.program) == 0  # nothing before approval
    issued = world.event(
        world.send(p.functions.approveApplication(app), s.issuer), p, "VouchersIssued"
    )
    assert (issued["applicationId"], issued["units"]) == (app, 30_000 * YUAN)
    assert call(p.functions.application(app))[3] == APPROVED
    assert world.vouchers(s.ent, s.program) == 30_000 * YUAN
    with reverts("ProgramApplicationNotPending", applicationId=app):
        world.send(p.functions.approveApplication(app), s.issuer)
    with reverts("ProgramHolderCapExceeded", requested=80_000 * YUAN, remaining=70_000 * YUAN):
        world.send(
            p.functions.applyForVouchers(s.program, 80_000 * YUAN, world.request_id()), s.ent
        )
    assert call(p.functions.applicationCount()) == 1


# -- own funds: vouchers pay at most the program's share -----------------------------------------


@pytest.mark.parametrize(
    ("vouchers", "own", "error", "args"),
    [  # a ¥20,000 service: vouchers may pay ¥10,000 of it
        (10_200, 9_800, "ProgramVoucherShareExceeded", {"maxVoucherValue": 10_000 * YUAN}),
        (20_000, 0, "ProgramVoucherShareExceeded", {"maxVoucherValue": 10_000 * YUAN}),
        (10_000, 9_999, "OrderAmountMismatch", {"price": 20_000 * YUAN, "ownFunds": 9_999 * YUAN}),
    ],
)
def test_vouchers_paying_more_than_half_or_own_funds_short_are_refused(
    world: World, vouchers: int, own: int, error: str, args: dict[str, int]
) -> None:
    s = shanghai(world)
    world.issue(s.issuer, s.program, s.ent, CAP)
    service = world.list_service(s.inst, Category.TESTING, 20_000 * YUAN)
    before = holdings(world, s)
    with reverts(error, voucherValue=vouchers * YUAN, **args):
        place(world, s, service, vouchers * YUAN, own * YUAN)
    assert holdings(world, s) == before


def test_vouchers_paying_half_with_own_funds_for_the_rest_are_accepted(world: World) -> None:
    s = shanghai(world)
    world.issue(s.issuer, s.program, s.ent, CAP)
    service = world.list_service(s.inst, Category.TESTING, 20_000 * YUAN)
    money = world.balance(s.ent)
    placed = world.event(
        place(world, s, service, 10_000 * YUAN, 10_000 * YUAN), world.p.orders, "OrderPlaced"
    )
    assert (placed["voucherValue"], placed["ownFunds"]) == (10_000 * YUAN, 10_000 * YUAN)
    assert money - world.balance(s.ent) == 10_000 * YUAN  # escrowed with the order
    assert world.balance(world.p.orders.address) == 10_000 * YUAN


# -- where vouchers may be spent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("home", "spend", "region", "accepted"),
    [
        (CHANGXING, (CHANGXING, SHANGHAI), SHANGHAI_PUDONG, True),  # Changxing buys in Shanghai
        (CHANGXING, (CHANGXING, SHANGHAI), CHANGXING, True),
        (CHANGXING, (CHANGXING, SHANGHAI), HANGZHOU, False),  # not elsewhere in Zhejiang
        (BEIJING, (BEIJING,), SHANGHAI_PUDONG, False),  # Beijing's stay in Beijing
    ],
)
def test_vouchers_are_spent_only_where_their_program_allows(
    world: World, home: int, spend: tuple[int, ...], region: int, accepted: bool
) -> None:
    issuer, finance = world.issuer(home), world.finance(home)
    program = world.program(issuer, finance, spend_regions=spend, eligible_regions=(home,))
    ent, inst = world.enterprise(home), world.institution(region)
    world.issue(issuer, program, ent, 5_000 * YUAN)
    world.deposit(ent, 5_000 * YUAN)
    service = world.list_service(inst, Category.TESTING, 10_000 * YUAN)
    s = Scene(issuer, finance, program, ent, inst)
    if accepted:
        receipt = place(world, s, service, 5_000 * YUAN, 5_000 * YUAN)
        assert world.event(receipt, world.p.orders, "OrderPlaced")["institutionOrg"] == inst.id
        return
    before = holdings(world, s)
    with reverts("ProgramRegionNotAllowed", programId=program, institutionRegion=region):
        place(world, s, service, 5_000 * YUAN, 5_000 * YUAN)
    assert holdings(world, s) == before


def test_national_vouchers_are_spent_in_wuhan_beijing_and_shanghai(world: World) -> None:
    issuer, finance = world.issuer(BEIJING), world.finance(BEIJING)
    program = world.program(issuer, finance, spend_regions=(0,), eligible_regions=(0,))
    ent = world.enterprise(WUHAN)
    world.issue(issuer, program, ent, 15_000 * YUAN)
    world.deposit(ent, 15_000 * YUAN)
    for region in (WUHAN, BEIJING_HAIDIAN, SHANGHAI_PUDONG):
        inst = world.institution(region)
        service = world.list_service(inst, Category.NOVELTY_SEARCH, 10_000 * YUAN)
        order = world.place(ent, service, program, 5_000 * YUAN, 5_000 * YUAN)
        assert world.order(order)[3] == inst.id
    assert world.vouchers(ent, program) == 0


# -- no hardware -------------------------------------------------------------------------------


def test_the_categories_are_services_and_none_is_hardware(world: World) -> None:
    catalogue = world.p.catalogue.functions
    names = [call(catalogue.categoryInfo(c))[0] for c in range(call(catalogue.categoryCount()))]
    assert names == list(DEFAULT_CATEGORIES)
    assert not any(word in name for name in names for word in ("硬件", "设备", "ardware"))


@pytest.mark.parametrize("category", [7, 99, 255])
def test_a_service_in_an_undefined_category_cannot_be_listed(world: World, category: int) -> None:
    inst = world.institution(BEIJING)
    count = call(world.p.catalogue.functions.serviceCount())
    with reverts("CatalogueInactiveCategory", category=category):
        world.send(world.p.catalogue.functions.listService(category, 80_000 * YUAN, "服务器"), inst)
    assert call(world.p.catalogue.functions.serviceCount()) == count


@pytest.mark.parametrize("mask", [1 << 7, Category.mask() | 1 << 7, 1 << 255, 0])
def test_a_program_cannot_pay_for_undefined_categories(world: World, mask: int) -> None:
    issuer, finance = world.issuer(BEIJING), world.finance(BEIJING)
    with reverts("ProgramInvalidCategories", categories=mask):
        world.create_program(issuer, world.terms(finance, categories=mask))
    assert call(world.p.programs.functions.programCount()) == 0


# -- related parties, and vouchers that cannot change hands -------------------------------------


def test_an_enterprise_cannot_buy_from_an_institution_of_its_own_group(world: World) -> None:
    group = Web3.keccak(text="中关村某集团")
    s = beijing(world)
    sister = world.institution(BEIJING, affiliation=group)
    ent = world.enterprise(BEIJING, affiliation=group)
    world.issue(s.issuer, s.program, ent, 2)
    world.deposit(ent, 10_000 * YUAN)
    related = Scene(s.issuer, s.finance, s.program, ent, sister)
    service = world.list_service(sister, Category.TESTING, 10_000 * YUAN)
    before = holdings(world, related)
    with reverts(
        "OrderRelatedParties",
        enterpriseOrg=ent.id,
        institutionOrg=sister.id,
        affiliation="0x" + bytes(group).hex(),
    ):
        place(world, related, service, 1, 5_000 * YUAN)
    assert holdings(world, related) == before
    other = world.list_service(s.inst, Category.TESTING, 10_000 * YUAN)  # an unrelated lab
    order = world.place(ent, other, s.program, 1, 5_000 * YUAN)
    assert world.order(order)[5] == OrderState.PLACED


@pytest.mark.parametrize("to", ["enterprise", "individual", "unknown"])
@pytest.mark.parametrize("how", ["safeTransferFrom", "safeBatchTransferFrom", "setApprovalForAll"])
def test_vouchers_cannot_be_given_to_anyone(world: World, to: str, how: str) -> None:
    s = beijing(world, vouchers=3)
    target = {
        "enterprise": world.enterprise(BEIJING).account,
        "individual": world.new_account(),  # a person's wallet: never registered
        "unknown": "0x000000000000000000000000000000000000dEaD",
    }[to]
    v = world.p.vouchers.functions
    fn = {
        "safeTransferFrom": lambda: v.safeTransferFrom(s.ent.account, target, s.program, 1, b""),
        "safeBatchTransferFrom": lambda: v.safeBatchTransferFrom(
            s.ent.account, target, [s.program], [1], b""
        ),
        "setApprovalForAll": lambda: v.setApprovalForAll(target, True),
    }[how]()
    with reverts("VoucherNonTransferable"):
        world.send(fn, s.ent)
    assert (world.vouchers(s.ent, s.program), world.vouchers(target, s.program)) == (3, 0)


@pytest.mark.parametrize("how", ["transfer", "mint"])
def test_settlement_money_cannot_reach_an_unregistered_address(world: World, how: str) -> None:
    ent, person = world.enterprise(BEIJING), world.new_account()
    world.deposit(ent, 1_000 * YUAN)
    money = world.p.settlement.functions
    fn, sender = money.transfer(person, 100 * YUAN), ent
    if how == "mint":
        fn, sender = money.mint(person, 100 * YUAN, world.request_id()), world.bank()
    with reverts("SettlementInvalidHolder", holder=person):
        world.send(fn, sender)
    assert (world.balance(ent), world.balance(person)) == (1_000 * YUAN, 0)


# -- redemption in the same transaction ----------------------------------------------------------


def test_the_institution_is_paid_in_the_very_transaction_that_confirms(world: World) -> None:
    """Beijing redeems twice a year; here the lab's balance rises in the confirming block."""
    s, p = beijing(world), world.p
    service = world.list_service(s.inst, Category.TESTING, 20_000 * YUAN)
    order = world.place(s.ent, service, s.program, 2, 10_000 * YUAN)
    world.deliver(s.inst, order)
    receipt = world.send(p.orders.functions.confirm(order), s.ent)
    block = receipt["blockNumber"]
    paid = [
        p.settlement.functions.balanceOf(s.inst.account).call(block_identifier=n)
        for n in (block - 1, block)
    ]
    assert paid == [0, 20_000 * YUAN]
    settled = world.event(receipt, p.orders, "OrderSettled")
    assert (settled["orderId"], settled["voucherValue"], settled["ownFunds"]) == (
        order,
        10_000 * YUAN,
        10_000 * YUAN,
    )
    assert settled["method"] == SettlementMethod.CONFIRMED
    redeemed = world.event(receipt, p.programs, "VouchersRedeemed")
    assert (redeemed["institutionOrg"], redeemed["units"], redeemed["value"]) == (
        s.inst.id,
        2,
        10_000 * YUAN,
    )
    transfers = {
        (t["args"]["from"], t["args"]["to"], t["args"]["value"])
        for t in world.events(receipt, p.settlement, "Transfer")
    }
    assert transfers == {
        (p.programs.address, s.inst.vault, 10_000 * YUAN),  # the voucher value, from escrow
        (p.orders.address, s.inst.vault, 10_000 * YUAN),  # the own funds, released
    }
    burned = world.event(receipt, p.vouchers, "TransferSingle")
    assert (burned["from"], burned["id"], burned["value"]) == (p.orders.address, s.program, 2)
    assert world.order(order)[5] == OrderState.SETTLED


# -- the budget year -----------------------------------------------------------------------------


def _settle_one_order(world: World, s: Scene) -> None:
    service = world.list_service(s.inst, Category.TESTING, 20_000 * YUAN)
    order = world.place(s.ent, service, s.program, 2, 10_000 * YUAN)  # ¥10,000 of vouchers
    world.deliver(s.inst, order)
    world.send(world.p.orders.functions.confirm(order), s.ent)


def test_closing_returns_exactly_the_unused_budget_to_finance(world: World) -> None:
    s, p = beijing(world, vouchers=10), world.p  # ¥1,000,000 escrowed; ¥50,000 of vouchers
    _settle_one_order(world, s)  # ¥10,000 paid; 8 vouchers never used
    deadline = call(p.programs.functions.terms(s.program))[17]
    with reverts("ProgramNotEnded", programId=s.program, settlementDeadline=deadline):
        world.send(p.programs.functions.close(s.program), s.finance)
    world.travel(331 * DAY)
    funds = world.balance(s.finance)
    receipt = world.send(p.programs.functions.close(s.program), s.finance)
    closed = world.event(receipt, p.programs, "ProgramClosed")
    assert (closed["expiredUnits"], closed["remainingEscrow"]) == (8, 990_000 * YUAN)
    assert world.event(receipt, p.programs, "VouchersExpired")["units"] == 8
    assert world.event(receipt, p.programs, "BudgetReturned")["amount"] == 990_000 * YUAN
    assert world.balance(s.finance) - funds == 990_000 * YUAN  # = budget - paid
    assert call(p.programs.functions.escrowed(s.program)) == 0
    assert world.balance(p.programs.address) == 0 and world.vouchers(s.ent, s.program) == 0


def test_a_rollover_moves_the_unused_budget_into_next_years_program(world: World) -> None:
    s, p = beijing(world, vouchers=10), world.p
    now = world.now()
    next_year = world.program(
        s.issuer,
        s.finance,
        budget=500_000 * YUAN,
        fiscal_year=2027,
        face_value=FACE,
        spend_regions=(BEIJING,),
        eligible_regions=(BEIJING,),
        issue_start=now + 300 * DAY,
        issue_end=now + 500 * DAY,
        expiry=now + 600 * DAY,
        settlement_deadline=now + 630 * DAY,
    )
    rollover = world.send(p.programs.functions.setRollover(s.program, next_year), s.issuer)
    assert world.event(rollover, p.programs, "RolloverSet")["targetId"] == next_year
    _settle_one_order(world, s)
    world.travel(331 * DAY)
    funds, escrow = world.balance(s.finance), world.balance(p.programs.address)
    receipt = world.send(p.programs.functions.close(s.program), s.issuer)
    rolled = world.event(receipt, p.programs, "BudgetRolledOver")
    assert (rolled["targetId"], rolled["amount"]) == (next_year, 990_000 * YUAN)
    assert world.events(receipt, p.programs, "BudgetReturned") == []
    assert world.balance(s.finance) == funds  # nothing went back...
    assert world.balance(p.programs.address) == escrow  # ...and nothing left the escrow
    assert world.state(next_year)[4] == 990_000 * YUAN  # rolledIn
    assert call(p.programs.functions.escrowed(next_year)) == 1_490_000 * YUAN
    world.issue(s.issuer, next_year, s.ent, 298)  # ¥1,490,000 of vouchers: its budget and more
    assert world.vouchers(s.ent, next_year) == 298


# -- Zhejiang's provincial reward for innovation carriers ----------------------------------------


def test_zhejiang_rewards_enrolled_carriers_a_share_of_each_settled_order(world: World) -> None:
    """温岭泵与电机技术创新服务平台: 170 voucher services for over ¥300,000 in half a year."""
    p = world.p
    province, provincial_finance = world.issuer(ZHEJIANG), world.finance(ZHEJIANG)
    reward = world.program(
        province,
        provincial_finance,
        budget=100_000 * YUAN,
        kind=ProgramKind.REWARD,
        share_bps=1_000,
        per_holder_cap=300 * YUAN,
        spend_regions=(ZHEJIANG,),
        eligible_regions=(ZHEJIANG,),
    )
    carrier, other = world.institution(WENLING), world.institution(WENLING)
    enrolled = world.send(p.programs.functions.enrollBeneficiary(reward, carrier.id), province)
    assert world.event(enrolled, p.programs, "BeneficiaryEnrolled")["institutionOrg"] == carrier.id
    shanghai_lab = world.institution(SHANGHAI_PUDONG)
    with reverts("ProgramIneligibleRegion", orgId=shanghai_lab.id, region=SHANGHAI_PUDONG):
        world.send(p.programs.functions.enrollBeneficiary(reward, shanghai_lab.id), province)

    city, city_finance = world.issuer(WENLING), world.finance(WENLING)
    vouchers = world.program(
        city, city_finance, spend_regions=(WENLING,), eligible_regions=(WENLING,)
    )
    ent = world.enterprise(WENLING)
    world.issue(city, vouchers, ent, 10_000 * YUAN)
    world.deposit(ent, 10_000 * YUAN)

    def settle(inst: Org) -> Any:  # a ¥1,800 pump test, half in vouchers
        service = world.list_service(inst, Category.TESTING, 1_800 * YUAN)
        order = world.place(ent, service, vouchers, 900 * YUAN, 900 * YUAN)
        world.deliver(inst, order)
        return world.send(p.orders.functions.confirm(order), ent)

    rewards = [world.events(settle(carrier), p.programs, "RewardPaid") for _ in range(3)]
    assert [[r["args"]["amount"] for r in paid] for paid in rewards] == [
        [180 * YUAN],
        [120 * YUAN],
        [],  # 10% of ¥1,800, up to the ¥300 cap per carrier
    ]
    assert rewards[0][0]["args"]["enterpriseOrg"] == ent.id
    assert world.balance(carrier) == 3 * 1_800 * YUAN + 300 * YUAN
    assert call(p.programs.functions.rewardPaidOf(reward, carrier.id)) == 300 * YUAN
    assert call(p.programs.functions.escrowed(reward)) == 99_700 * YUAN
    assert world.events(settle(other), p.programs, "RewardPaid") == []  # not enrolled
    assert world.balance(other) == 1_800 * YUAN

"""OrderBook: placing an order (every rule it checks) and the order's lifecycle to settlement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_tester import EthereumTester
from web3 import Web3
from web3.types import TxReceipt

from tests.contracts.seeder import ZERO_ID, Seeder
from tests.world import BEIJING, DAY, SHANGHAI, SHANGHAI_PUDONG, YUAN, Org, World, reverts
from voucher_chain.contracts import (
    Category,
    KindMask,
    OrderState,
    OrgKind,
    OrgStatus,
    ProgramKind,
    Protocol,
    SettlementMethod,
    call,
)

PRICE = 10_000 * YUAN
HALF = PRICE // 2
VOUCHERS = 50_000 * YUAN
OWN_MONEY = 20_000 * YUAN
ORDER_FIELDS = (
    "programId",
    "serviceId",
    "enterpriseOrg",
    "institutionOrg",
    "category",
    "state",
    "placedAt",
    "deliveredAt",
    "units",
    "price",
    "voucherValue",
    "ownFunds",
    "deliverableHash",
    "requestId",
)


# -- a scene built once per module --------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    world: World
    issuer: Org
    finance: Org
    program: int  # quota in fen, 50% share, Shanghai institutions, testing/design/consulting only
    ent: Org  # holds VOUCHERS of the program and OWN_MONEY
    inst: Org
    service: int  # testing at PRICE


@pytest.fixture(scope="module")
def base(_chain: tuple[EthereumTester, Web3, Protocol]) -> Iterator[Scene]:
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    seed = Seeder(World(tester=tester, w3=w3, protocol=protocol), "orders")
    issuer, finance = seed.org(OrgKind.ISSUER, SHANGHAI), seed.org(OrgKind.FINANCE, SHANGHAI)
    categories = Category.mask(Category.TESTING, Category.RD_DESIGN, Category.TECHNICAL_CONSULTING)
    program = seed.program(
        issuer, finance, 1_000_000 * YUAN, spend_regions=(SHANGHAI,), categories=categories
    )
    ent, inst = seed.org(OrgKind.ENTERPRISE, SHANGHAI_PUDONG), seed.institution(SHANGHAI)
    seed.issue(issuer, program, ent, VOUCHERS)
    seed.deposit(ent, OWN_MONEY)
    service = seed.world.list_service(inst, Category.TESTING, PRICE)
    yield Scene(seed.world, issuer, finance, program, ent, inst, service)
    tester.revert_to_snapshot(snapshot)


@pytest.fixture
def scene(base: Scene, world: World) -> Scene:
    return replace(base, world=world)


@dataclass(frozen=True)
class Attempt:
    """The arguments of one placeOrder call."""

    ent: Org
    service: int
    program: int
    units: int = HALF
    own: int = HALF
    quantity: int = 1
    request_id: bytes | None = None


def attempt(s: Scene, **changes: Any) -> Attempt:
    return replace(Attempt(s.ent, s.service, s.program), **changes)


def place(s: Scene, a: Attempt) -> TxReceipt:
    rid = s.world.request_id() if a.request_id is None else a.request_id
    fn = s.world.p.orders.functions.placeOrder(
        a.service, a.quantity, a.program, a.units, a.own, rid
    )
    return s.world.send(fn, a.ent)


def order(s: Scene, order_id: int) -> dict[str, Any]:
    return dict(zip(ORDER_FIELDS, s.world.order(order_id), strict=True))


def open_orders(s: Scene, program: int | None = None) -> int:
    return int(call(s.world.p.orders.functions.openOrders(program or s.program)))


def ledger(s: Scene, ent: Org | None = None, program: int | None = None) -> tuple[int, ...]:
    """Every balance and counter an order can move."""
    w, book, ent, pid = s.world, s.world.p.orders.address, ent or s.ent, program or s.program
    return (
        w.vouchers(ent, pid),
        w.balance(ent),
        w.vouchers(book, pid),
        w.balance(book),
        w.balance(s.inst),
        int(call(w.p.orders.functions.orderCount())),
        open_orders(s, pid),
        int(call(w.p.programs.functions.escrowed(pid))),
        int(call(w.p.programs.functions.outstandingUnits(pid))),
    )


def hexid(value: bytes) -> str:
    return "0x" + value.hex()


# -- placeOrder: every refusal ------------------------------------------------------------------

Refusal = tuple[Attempt, str, dict[str, Any]]


def wrong_category(s: Scene) -> Refusal:
    service = s.world.list_service(s.inst, Category.NOVELTY_SEARCH, PRICE)
    expected = {"programId": s.program, "category": int(Category.NOVELTY_SEARCH)}
    return attempt(s, service=service), "ProgramCategoryNotAllowed", expected


def institution_region_not_allowed(s: Scene) -> Refusal:
    service = s.world.list_service(s.world.institution(BEIJING), Category.TESTING, PRICE)
    expected = {"programId": s.program, "institutionRegion": BEIJING}
    return attempt(s, service=service), "ProgramRegionNotAllowed", expected


def zero_units(s: Scene) -> Refusal:
    args = {"programId": s.program, "units": 0, "minUnits": 1, "maxUnits": 2**32 - 1}
    return attempt(s, units=0, own=PRICE), "ProgramUnitsOutOfRange", args


def too_many_fixed_vouchers(s: Scene) -> Refusal:
    w = s.world
    face = 1_000 * YUAN
    program = w.program(s.issuer, s.finance, face_value=face, min_units=2, max_units=4)
    w.issue(s.issuer, program, s.ent, 5)
    args = {"programId": program, "units": 5, "minUnits": 2, "maxUnits": 4}
    return (
        attempt(s, program=program, units=5, own=PRICE - 5 * face),
        "ProgramUnitsOutOfRange",
        args,
    )


def too_few_fixed_vouchers(s: Scene) -> Refusal:
    w = s.world
    face = 1_000 * YUAN
    program = w.program(s.issuer, s.finance, face_value=face, min_units=2, max_units=4)
    w.issue(s.issuer, program, s.ent, 5)
    args = {"programId": program, "units": 1, "minUnits": 2, "maxUnits": 4}
    return attempt(s, program=program, units=1, own=PRICE - face), "ProgramUnitsOutOfRange", args


def voucher_share_exceeded(s: Scene) -> Refusal:
    args = {"programId": s.program, "voucherValue": HALF + 1, "maxVoucherValue": HALF}
    return attempt(s, units=HALF + 1, own=HALF - 1), "ProgramVoucherShareExceeded", args


def tier_share_exceeded(s: Scene) -> Refusal:
    """Full cover up to ¥2,000, half of the rest: at most ¥6,000 of a ¥10,000 order."""
    w = s.world
    program = w.program(s.issuer, s.finance, full_cover_threshold=2_000 * YUAN)
    w.issue(s.issuer, program, s.ent, VOUCHERS)
    units = 6_000 * YUAN + 1
    args = {"programId": program, "voucherValue": units, "maxVoucherValue": 6_000 * YUAN}
    return (
        attempt(s, program=program, units=units, own=PRICE - units),
        "ProgramVoucherShareExceeded",
        args,
    )


def own_funds_short(s: Scene) -> Refusal:
    args = {"price": PRICE, "voucherValue": HALF, "ownFunds": HALF - 1}
    return attempt(s, own=HALF - 1), "OrderAmountMismatch", args


def own_funds_over(s: Scene) -> Refusal:
    args = {"price": PRICE, "voucherValue": 4_000 * YUAN, "ownFunds": HALF + 1}
    return attempt(s, units=4_000 * YUAN, own=HALF + 1), "OrderAmountMismatch", args


def not_enough_vouchers(s: Scene) -> Refusal:
    poor = s.world.enterprise(SHANGHAI)
    s.world.issue(s.issuer, s.program, poor, HALF - 1)
    s.world.deposit(poor, HALF)
    args = {"sender": poor.vault, "balance": HALF - 1, "needed": HALF, "tokenId": s.program}
    return attempt(s, ent=poor), "ERC1155InsufficientBalance", args


def not_enough_own_funds(s: Scene) -> Refusal:
    poor = s.world.enterprise(SHANGHAI)
    s.world.issue(s.issuer, s.program, poor, HALF)
    s.world.deposit(poor, HALF - 1)
    args = {"sender": poor.vault, "balance": HALF - 1, "needed": HALF}
    return attempt(s, ent=poor), "ERC20InsufficientBalance", args


def service_inactive(s: Scene) -> Refusal:
    s.world.send(s.world.p.catalogue.functions.updateService(s.service, PRICE, False), s.inst)
    return attempt(s), "OrderServiceUnavailable", {"serviceId": s.service}


def category_retired(s: Scene) -> Refusal:
    fn = s.world.p.catalogue.functions.setCategoryActive(int(Category.TESTING), False)
    s.world.send(fn, s.world.governor)
    return attempt(s), "CatalogueInactiveCategory", {"category": int(Category.TESTING)}


def zero_quantity(s: Scene) -> Refusal:
    return attempt(s, quantity=0), "OrderZeroQuantity", {}


def unknown_service(s: Scene) -> Refusal:
    return attempt(s, service=99), "CatalogueUnknownService", {"serviceId": 99}


def institution_frozen(s: Scene) -> Refusal:
    s.world.send(s.world.p.registry.functions.freeze(s.inst.id, 9), s.world.regulator())
    args = {"orgId": s.inst.id, "status": int(OrgStatus.FROZEN)}
    return attempt(s), "OrderCounterpartyNotActive", args


def institution_suspended(s: Scene) -> Refusal:
    s.world.send(s.world.p.registry.functions.suspend(s.inst.id, 9), s.world.governor)
    args = {"orgId": s.inst.id, "status": int(OrgStatus.SUSPENDED)}
    return attempt(s), "OrderCounterpartyNotActive", args


def accreditation_withdrawn(s: Scene) -> Refusal:
    mask = Category.mask(Category.RD_DESIGN)
    s.world.send(s.world.p.catalogue.functions.accredit(s.inst.id, mask), s.world.governor)
    args = {"institutionOrg": s.inst.id, "category": int(Category.TESTING)}
    return attempt(s), "OrderInstitutionNotAccredited", args


def related_parties(s: Scene) -> Refusal:
    group = Web3.keccak(text="Zhangjiang Holdings group")
    for org, staff in ((s.ent, 20), (s.inst, 100)):
        fn = s.world.p.registry.functions.updateProfile(org.id, staff, 6510, group)
        s.world.send(fn, s.world.governor)
    args = {"enterpriseOrg": s.ent.id, "institutionOrg": s.inst.id, "affiliation": hexid(group)}
    return attempt(s), "OrderRelatedParties", args


def before_issue_start(s: Scene) -> Refusal:
    start = s.world.now() + 10 * DAY
    program = s.world.program(s.issuer, s.finance, issue_start=start)
    expiry = call(s.world.p.programs.functions.terms(program))[16]
    args = {"programId": program, "issueStart": start, "expiry": expiry}
    return attempt(s, program=program), "ProgramNotSpendable", args


def after_expiry(s: Scene) -> Refusal:
    terms = call(s.world.p.programs.functions.terms(s.program))
    s.world.travel(300 * DAY + 1)
    args = {"programId": s.program, "issueStart": terms[14], "expiry": terms[16]}
    return attempt(s), "ProgramNotSpendable", args


def duplicate_request(s: Scene) -> Refusal:
    rid = s.world.request_id()
    place(s, attempt(s, request_id=rid))
    args = {"requestId": hexid(rid), "existingOrderId": 1}
    return attempt(s, request_id=rid), "OrderDuplicateRequest", args


def zero_request_id(s: Scene) -> Refusal:
    args = {"requestId": hexid(ZERO_ID), "existingOrderId": 0}
    return attempt(s, request_id=ZERO_ID), "OrderDuplicateRequest", args


def caller_is_an_institution(s: Scene) -> Refusal:
    args = {"account": s.inst.account, "allowedKinds": int(KindMask.VOUCHER_HOLDERS)}
    return attempt(s, ent=s.inst), "ProtocolUnauthorizedAccount", args


def caller_is_the_issuer(s: Scene) -> Refusal:
    args = {"account": s.issuer.account, "allowedKinds": int(KindMask.VOUCHER_HOLDERS)}
    return attempt(s, ent=s.issuer), "ProtocolUnauthorizedAccount", args


def enterprise_frozen(s: Scene) -> Refusal:
    s.world.send(s.world.p.registry.functions.freeze(s.ent.id, 9), s.world.regulator())
    args = {"orgId": s.ent.id, "status": int(OrgStatus.FROZEN)}
    return attempt(s), "ProtocolOrgNotActive", args


def reward_program(s: Scene) -> Refusal:
    program = s.world.program(s.issuer, s.finance, kind=ProgramKind.REWARD, share_bps=1_000)
    args = {"programId": program, "kind": int(ProgramKind.REWARD)}
    return attempt(s, program=program), "ProgramWrongKind", args


def unknown_program(s: Scene) -> Refusal:
    return attempt(s, program=99), "ProgramUnknown", {"programId": 99}


REFUSALS: list[Callable[[Scene], Refusal]] = [
    wrong_category,
    institution_region_not_allowed,
    zero_units,
    too_many_fixed_vouchers,
    too_few_fixed_vouchers,
    voucher_share_exceeded,
    tier_share_exceeded,
    own_funds_short,
    own_funds_over,
    not_enough_vouchers,
    not_enough_own_funds,
    service_inactive,
    category_retired,
    zero_quantity,
    unknown_service,
    institution_frozen,
    institution_suspended,
    accreditation_withdrawn,
    related_parties,
    before_issue_start,
    after_expiry,
    duplicate_request,
    zero_request_id,
    caller_is_an_institution,
    caller_is_the_issuer,
    enterprise_frozen,
    reward_program,
    unknown_program,
]


@pytest.mark.parametrize("case", REFUSALS, ids=[f.__name__ for f in REFUSALS])
def test_place_order_refusals(scene: Scene, case: Callable[[Scene], Refusal]) -> None:
    a, error, args = case(scene)
    before = ledger(scene, a.ent, a.program)
    with reverts(error, **args):
        place(scene, a)
    assert ledger(scene, a.ent, a.program) == before


# -- placeOrder: accepted -----------------------------------------------------------------------


def test_place_order_escrows_vouchers_and_own_funds(scene: Scene) -> None:
    w, s = scene.world, scene
    rid = w.request_id()
    book = w.p.orders.address
    receipt = place(s, attempt(s, units=4_000 * YUAN, own=6_000 * YUAN, request_id=rid))
    assert w.event(receipt, w.p.orders, "OrderPlaced") == {
        "orderId": 1,
        "programId": s.program,
        "enterpriseOrg": s.ent.id,
        "institutionOrg": s.inst.id,
        "serviceId": s.service,
        "units": 4_000 * YUAN,
        "voucherValue": 4_000 * YUAN,
        "ownFunds": 6_000 * YUAN,
        "requestId": rid,
    }
    assert w.vouchers(s.ent, s.program) == VOUCHERS - 4_000 * YUAN
    assert w.vouchers(book, s.program) == 4_000 * YUAN
    assert w.balance(s.ent) == OWN_MONEY - 6_000 * YUAN
    assert w.balance(book) == 6_000 * YUAN
    assert open_orders(s) == 1
    assert int(call(w.p.orders.functions.orderOfRequest(rid))) == 1
    placed = order(s, 1)
    assert placed["state"] == OrderState.PLACED
    assert placed["category"] == Category.TESTING
    assert (placed["price"], placed["voucherValue"], placed["ownFunds"]) == (
        PRICE,
        4_000 * YUAN,
        6_000 * YUAN,
    )
    # A retry with the same request id places nothing twice.
    before = ledger(s)
    with reverts("OrderDuplicateRequest", requestId=hexid(rid), existingOrderId=1):
        place(s, attempt(s, request_id=rid))
    assert ledger(s) == before


def test_full_cover_tier(scene: Scene) -> None:
    """Up to the threshold vouchers pay everything; above it, the threshold plus the share."""
    w, s = scene.world, scene
    program = w.program(s.issuer, s.finance, full_cover_threshold=2_000 * YUAN)
    w.issue(s.issuer, program, s.ent, VOUCHERS)
    small = w.list_service(s.inst, Category.TECHNICAL_CONSULTING, 2_000 * YUAN)
    money = w.balance(s.ent)
    place(s, attempt(s, service=small, program=program, units=2_000 * YUAN, own=0))
    assert w.balance(s.ent) == money
    place(s, attempt(s, program=program, units=6_000 * YUAN, own=4_000 * YUAN))
    assert w.balance(s.ent) == money - 4_000 * YUAN
    assert int(call(w.p.programs.functions.maxVoucherValue(program, PRICE))) == 6_000 * YUAN


def test_vouchers_are_spendable_up_to_expiry_inclusive(scene: Scene) -> None:
    w = scene.world
    terms = call(w.p.programs.functions.terms(scene.program))
    issue_start, expiry = terms[14], terms[16]
    w.tester.time_travel(expiry)  # the next transaction runs at exactly the expiry
    place(scene, attempt(scene))
    before = ledger(scene)
    with reverts(
        "ProgramNotSpendable",
        programId=scene.program,
        issueStart=issue_start,
        expiry=expiry,
        timestamp=expiry + 1,
    ):
        place(scene, attempt(scene))
    assert ledger(scene) == before


# -- lifecycle ----------------------------------------------------------------------------------


def test_confirm_settles_in_one_transaction(scene: Scene) -> None:
    w, s = scene.world, scene
    order_id = w.place(s.ent, s.service, s.program, HALF, HALF)
    receipt = w.send(w.p.orders.functions.accept(order_id), s.inst)
    assert w.event(receipt, w.p.orders, "OrderAccepted") == {
        "orderId": order_id,
        "institutionOrg": s.inst.id,
    }
    digest = Web3.keccak(text="test report no. 2026-0042")
    receipt = w.send(w.p.orders.functions.deliver(order_id, digest), s.inst)
    assert w.event(receipt, w.p.orders, "OrderDelivered")["deliverableHash"] == digest
    assert order(s, order_id)["deliveredAt"] == w.now()
    inst_before = w.balance(s.inst)
    escrow_before = int(call(w.p.programs.functions.escrowed(s.program)))

    receipt = w.send(w.p.orders.functions.confirm(order_id), s.ent)
    assert w.event(receipt, w.p.orders, "OrderSettled") == {
        "orderId": order_id,
        "programId": s.program,
        "institutionOrg": s.inst.id,
        "voucherValue": HALF,
        "ownFunds": HALF,
        "method": int(SettlementMethod.CONFIRMED),
    }
    assert w.event(receipt, w.p.programs, "VouchersRedeemed") == {
        "programId": s.program,
        "enterpriseOrg": s.ent.id,
        "institutionOrg": s.inst.id,
        "units": HALF,
        "value": HALF,
    }
    burned = w.event(receipt, w.p.vouchers, "TransferSingle")
    assert (burned["from"], burned["to"], burned["value"]) == (
        w.p.orders.address,
        "0x" + "00" * 20,
        HALF,
    )
    assert w.balance(s.inst) == inst_before + PRICE
    assert w.vouchers(w.p.orders.address, s.program) == 0
    assert w.balance(w.p.orders.address) == 0
    assert w.vouchers(s.ent, s.program) == VOUCHERS - HALF
    state = w.state(s.program)
    assert (state[5], state[8]) == (HALF, HALF)  # paid, redeemedUnits
    assert int(call(w.p.programs.functions.escrowed(s.program))) == escrow_before - HALF
    assert open_orders(s) == 0
    assert order(s, order_id)["state"] == OrderState.SETTLED


def test_quantity_multiplies_the_price(scene: Scene) -> None:
    w, s = scene.world, scene
    face = 5_000 * YUAN
    program = w.program(s.issuer, s.finance, face_value=face, max_units=40)
    w.issue(s.issuer, program, s.ent, 4)
    service = w.list_service(s.inst, Category.RD_DESIGN, 4_000 * YUAN)
    with reverts(
        "ProgramVoucherShareExceeded", voucherValue=face, maxVoucherValue=2_000 * YUAN
    ):  # one unit of service: a voucher is worth more than half its price
        w.place(s.ent, service, program, 1, 0)
    with reverts("OrderAmountMismatch", price=12_000 * YUAN, voucherValue=face, ownFunds=face):
        w.place(s.ent, service, program, 1, face, quantity=3)
    order_id = w.place(s.ent, service, program, 1, 7_000 * YUAN, quantity=3)
    assert order(s, order_id)["price"] == 12_000 * YUAN
    w.deliver(s.inst, order_id)
    before = w.balance(s.inst)
    receipt = w.send(w.p.orders.functions.confirm(order_id), s.ent)
    assert w.event(receipt, w.p.programs, "VouchersRedeemed")["value"] == face
    assert w.balance(s.inst) == before + 12_000 * YUAN
    assert w.vouchers(s.ent, program) == 3


@pytest.mark.parametrize("accepted", [False, True], ids=["placed", "accepted"])
def test_reject_refunds_exactly(scene: Scene, accepted: bool) -> None:
    w, s = scene.world, scene
    before = ledger(s)
    order_id = w.place(s.ent, s.service, s.program, 3_000 * YUAN, 7_000 * YUAN)
    if accepted:
        w.send(w.p.orders.functions.accept(order_id), s.inst)
    receipt = w.send(w.p.orders.functions.reject(order_id, 12), s.inst)
    assert w.event(receipt, w.p.orders, "OrderRejected") == {
        "orderId": order_id,
        "institutionOrg": s.inst.id,
        "reasonCode": 12,
    }
    after = ledger(s)
    assert after[:5] == before[:5] and after[6:] == before[6:]  # only orderCount moved
    assert order(s, order_id)["state"] == OrderState.REJECTED


def test_cancel_refunds_exactly(scene: Scene) -> None:
    w, s = scene.world, scene
    before = ledger(s)
    order_id = w.place(s.ent, s.service, s.program, HALF, HALF)
    receipt = w.send(w.p.orders.functions.cancel(order_id), s.ent)
    assert w.event(receipt, w.p.orders, "OrderCancelled") == {
        "orderId": order_id,
        "enterpriseOrg": s.ent.id,
    }
    after = ledger(s)
    assert after[:5] == before[:5] and after[6:] == before[6:]
    assert order(s, order_id)["state"] == OrderState.CANCELLED


def test_delivery_needs_a_deliverable_hash(scene: Scene) -> None:
    w, s = scene.world, scene
    order_id = w.place(s.ent, s.service, s.program, HALF, HALF)
    w.send(w.p.orders.functions.accept(order_id), s.inst)
    with reverts("OrderEmptyDeliverable", orderId=order_id):
        w.send(w.p.orders.functions.deliver(order_id, ZERO_ID), s.inst)
    assert order(s, order_id)["state"] == OrderState.ACCEPTED


ACTIONS = ("accept", "reject", "cancel", "deliver", "confirm")
ALLOWED = {
    "accept": {OrderState.PLACED},
    "reject": {OrderState.PLACED, OrderState.ACCEPTED},
    "cancel": {OrderState.PLACED},
    "deliver": {OrderState.ACCEPTED},
    "confirm": {OrderState.DELIVERED},
}


def act(s: Scene, action: str, order_id: int, by: Org | None = None) -> TxReceipt:
    fns = s.world.p.orders.functions
    calls = {
        "accept": (fns.accept(order_id), s.inst),
        "reject": (fns.reject(order_id, 1), s.inst),
        "cancel": (fns.cancel(order_id), s.ent),
        "deliver": (fns.deliver(order_id, Web3.keccak(text="report")), s.inst),
        "confirm": (fns.confirm(order_id), s.ent),
    }
    fn, party = calls[action]
    return s.world.send(fn, by or party)


def order_in(s: Scene, state: OrderState) -> int:
    """An order driven to ``state`` along the normal path."""
    order_id = s.world.place(s.ent, s.service, s.program, HALF, HALF)
    path = {
        OrderState.PLACED: (),
        OrderState.ACCEPTED: ("accept",),
        OrderState.DELIVERED: ("accept", "deliver"),
        OrderState.SETTLED: ("accept", "deliver", "confirm"),
        OrderState.CANCELLED: ("cancel",),
        OrderState.REJECTED: ("reject",),
    }[state]
    for step in path:
        act(s, step, order_id)
    return order_id


@pytest.mark.parametrize("state", [s for s in OrderState if s in range(1, 7)], ids=lambda s: s.name)
def test_steps_out_of_order_are_refused(scene: Scene, state: OrderState) -> None:
    order_id = order_in(scene, state)
    before = ledger(scene)
    for action in ACTIONS:
        if state in ALLOWED[action]:
            continue
        with reverts("OrderInvalidState", orderId=order_id, state=int(state)):
            act(scene, action, order_id)
    assert ledger(scene) == before
    assert order(scene, order_id)["state"] == state


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("accept", OrderState.PLACED),
        ("reject", OrderState.ACCEPTED),
        ("deliver", OrderState.ACCEPTED),
        ("cancel", OrderState.PLACED),
        ("confirm", OrderState.DELIVERED),
    ],
)
def test_steps_by_the_wrong_party_are_refused(scene: Scene, action: str, state: OrderState) -> None:
    w = scene.world
    order_id = order_in(scene, state)
    before = ledger(scene)
    institution_step = action in ("accept", "reject", "deliver")
    other = w.institution(SHANGHAI) if institution_step else w.enterprise(SHANGHAI)
    counterpart = scene.ent if institution_step else scene.inst
    kinds = KindMask.INSTITUTION if institution_step else KindMask.VOUCHER_HOLDERS
    with reverts("OrderNotParty", orderId=order_id, orgId=other.id):
        act(scene, action, order_id, by=other)
    with reverts(
        "ProtocolUnauthorizedAccount", account=counterpart.account, allowedKinds=int(kinds)
    ):
        act(scene, action, order_id, by=counterpart)
    with reverts("OrderUnknown", orderId=order_id + 1):
        act(scene, action, order_id + 1)
    assert ledger(scene) == before
    assert order(scene, order_id)["state"] == state

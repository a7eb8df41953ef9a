"""Disputes and their resolution, claims, expiry, closing a program (expire, return, roll over),
closed programs and the protocol-wide pause."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_tester import EthereumTester
from web3 import Web3
from web3.types import TxReceipt

from tests.contracts.seeder import ZERO_ID, Seeder
from tests.world import BEIJING, DAY, SHANGHAI, YUAN, ZHEJIANG, Org, World, reverts
from voucher_chain.contracts import (
    Category,
    KindMask,
    OrderState,
    OrgKind,
    ProgramKind,
    Protocol,
    SettlementMethod,
    call,
)

BUDGET = 100_000 * YUAN
PRICE = 10_000 * YUAN
HALF = PRICE // 2
WINDOW = 7 * DAY


# -- a scene built once per module --------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    world: World
    issuer: Org
    finance: Org
    regulator: Org
    program: int  # quota in fen, 50% share, BUDGET escrowed, 7-day confirmation window
    ent: Org  # 20,000 yuan of vouchers and 20,000 yuan of own money
    ent2: Org  # 5,000 yuan of vouchers
    ent3: Org  # 3,000 yuan of vouchers
    inst: Org
    service: int  # testing at PRICE


@pytest.fixture(scope="module")
def base(_chain: tuple[EthereumTester, Web3, Protocol]) -> Iterator[Scene]:
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    seed = Seeder(World(tester=tester, w3=w3, protocol=protocol), "disputes-and-close")
    issuer, finance = seed.org(OrgKind.ISSUER, SHANGHAI), seed.org(OrgKind.FINANCE, SHANGHAI)
    program = seed.program(issuer, finance, BUDGET, confirm_window=WINDOW)
    ents = [seed.org(OrgKind.ENTERPRISE, SHANGHAI) for _ in range(3)]
    for ent, units in zip(ents, (20_000 * YUAN, 5_000 * YUAN, 3_000 * YUAN), strict=True):
        seed.issue(issuer, program, ent, units)
    seed.deposit(ents[0], 20_000 * YUAN)
    inst = seed.institution(SHANGHAI)
    service = seed.world.list_service(inst, Category.TESTING, PRICE)
    regulator = seed.org(OrgKind.REGULATOR, BEIJING)
    ent, ent2, ent3 = ents
    yield Scene(seed.world, issuer, finance, regulator, program, ent, ent2, ent3, inst, service)
    tester.revert_to_snapshot(snapshot)


@pytest.fixture
def scene(base: Scene, world: World) -> Scene:
    return replace(base, world=world)


# -- helpers ------------------------------------------------------------------------------------

ORDER_STATE = 5


def fns(s: Scene) -> Any:
    return s.world.p.orders.functions


def place(s: Scene) -> int:
    return s.world.place(s.ent, s.service, s.program, HALF, HALF)


def delivered(s: Scene) -> int:
    order_id = place(s)
    s.world.deliver(s.inst, order_id)
    return order_id


def disputed(s: Scene, *, deliver: bool = True) -> int:
    order_id = delivered(s) if deliver else place(s)
    if not deliver:
        s.world.send(fns(s).accept(order_id), s.inst)
    s.world.send(fns(s).dispute(order_id, Web3.keccak(text="report incomplete")), s.ent)
    return order_id


def state_of(s: Scene, order_id: int) -> int:
    return int(s.world.order(order_id)[ORDER_STATE])


def terms(s: Scene, program: int | None = None) -> Any:
    return call(s.world.p.programs.functions.terms(program or s.program))


def view(s: Scene, name: str, *args: Any) -> Any:
    return call(getattr(s.world.p.programs.functions, name)(*args))


def ledger(s: Scene) -> tuple[int, ...]:
    w, book = s.world, s.world.p.orders.address
    return (
        w.vouchers(s.ent, s.program),
        w.balance(s.ent),
        w.vouchers(book, s.program),
        w.balance(book),
        w.balance(s.inst),
        w.balance(s.finance),
        int(call(fns(s).openOrders(s.program))),
        view(s, "escrowed", s.program),
        view(s, "outstandingUnits", s.program),
    )


def past_deadline(s: Scene) -> None:
    s.world.travel(330 * DAY + 1)


def at(s: Scene, timestamp: int) -> None:
    """The next transaction (or refused call) runs at exactly ``timestamp``."""
    s.world.tester.time_travel(timestamp)


# -- disputes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("deliver", [False, True], ids=["accepted", "delivered"])
def test_enterprise_disputes(scene: Scene, deliver: bool) -> None:
    w = scene.world
    order_id = delivered(scene) if deliver else place(scene)
    if not deliver:
        w.send(fns(scene).accept(order_id), scene.inst)
    before = ledger(scene)
    reason = Web3.keccak(text="the report misses the EMC test")
    receipt = w.send(fns(scene).dispute(order_id, reason), scene.ent)
    assert w.event(receipt, w.p.orders, "OrderDisputed") == {
        "orderId": order_id,
        "enterpriseOrg": scene.ent.id,
        "reasonHash": reason,
    }
    assert state_of(scene, order_id) == OrderState.DISPUTED
    assert ledger(scene) == before  # still escrowed, still open


@pytest.mark.parametrize("state", [OrderState.PLACED, OrderState.SETTLED, OrderState.CANCELLED])
def test_dispute_needs_an_accepted_or_delivered_order(scene: Scene, state: OrderState) -> None:
    w = scene.world
    order_id = place(scene)
    if state == OrderState.SETTLED:
        w.deliver(scene.inst, order_id)
        w.send(fns(scene).confirm(order_id), scene.ent)
    elif state == OrderState.CANCELLED:
        w.send(fns(scene).cancel(order_id), scene.ent)
    with reverts("OrderInvalidState", orderId=order_id, state=int(state)):
        w.send(fns(scene).dispute(order_id, ZERO_ID), scene.ent)
    assert state_of(scene, order_id) == state


def test_only_the_enterprise_disputes(scene: Scene) -> None:
    w = scene.world
    order_id = delivered(scene)
    with reverts("OrderNotParty", orderId=order_id, orgId=scene.ent2.id):
        w.send(fns(scene).dispute(order_id, ZERO_ID), scene.ent2)
    with reverts("ProtocolUnauthorizedAccount", account=scene.inst.account):
        w.send(fns(scene).dispute(order_id, ZERO_ID), scene.inst)
    assert state_of(scene, order_id) == OrderState.DELIVERED


@pytest.mark.parametrize(
    ("units", "own", "resolver"),
    [
        pytest.param(HALF, HALF, "issuer", id="settle-all-by-issuer"),
        pytest.param(0, 0, "regulator", id="refund-all-by-regulator"),
        pytest.param(HALF // 2, 1_000 * YUAN, "issuer", id="split-by-issuer"),
        pytest.param(HALF // 2, 1_000 * YUAN, "regulator", id="split-by-regulator"),
        pytest.param(HALF, 0, "regulator", id="vouchers-only"),
        pytest.param(0, HALF, "issuer", id="own-funds-only"),
    ],
)
def test_resolution_pays_and_refunds_exactly(
    scene: Scene, units: int, own: int, resolver: str
) -> None:
    w = scene.world
    by = scene.issuer if resolver == "issuer" else scene.regulator
    order_id = disputed(scene)
    ent_vouchers, ent_money = w.vouchers(scene.ent, scene.program), w.balance(scene.ent)
    inst_money, escrow = w.balance(scene.inst), view(scene, "escrowed", scene.program)

    receipt = w.send(fns(scene).resolveDispute(order_id, units, own), by)
    assert w.event(receipt, w.p.orders, "DisputeResolved") == {
        "orderId": order_id,
        "byOrg": by.id,
        "unitsPaid": units,
        "ownFundsPaid": own,
    }
    settled = w.events(receipt, w.p.orders, "OrderSettled")
    redeemed = w.events(receipt, w.p.programs, "VouchersRedeemed")
    if units or own:
        assert dict(settled[0]["args"]) == {
            "orderId": order_id,
            "programId": scene.program,
            "institutionOrg": scene.inst.id,
            "voucherValue": units,
            "ownFunds": own,
            "method": int(SettlementMethod.RESOLVED),
        }
    else:
        assert settled == []
    assert [e["args"]["units"] for e in redeemed] == ([units] if units else [])
    assert w.balance(scene.inst) == inst_money + units + own
    assert w.vouchers(scene.ent, scene.program) == ent_vouchers + HALF - units
    assert w.balance(scene.ent) == ent_money + HALF - own
    assert w.vouchers(w.p.orders.address, scene.program) == 0
    assert w.balance(w.p.orders.address) == 0
    assert view(scene, "escrowed", scene.program) == escrow - units
    assert w.state(scene.program)[8] == units  # redeemedUnits
    assert int(call(fns(scene).openOrders(scene.program))) == 0
    assert state_of(scene, order_id) == OrderState.RESOLVED


def test_resolution_by_others_is_refused(scene: Scene) -> None:
    w = scene.world
    order_id = disputed(scene, deliver=False)
    before = ledger(scene)
    other = w.issuer(ZHEJIANG)
    with reverts("OrderNotParty", orderId=order_id, orgId=other.id):
        w.send(fns(scene).resolveDispute(order_id, HALF, HALF), other)
    for caller in (scene.ent, scene.inst, scene.finance):
        with reverts(
            "ProtocolUnauthorizedAccount",
            account=caller.account,
            allowedKinds=int(KindMask.ISSUER | KindMask.REGULATOR),
        ):
            w.send(fns(scene).resolveDispute(order_id, HALF, HALF), caller)
    assert ledger(scene) == before
    assert state_of(scene, order_id) == OrderState.DISPUTED


@pytest.mark.parametrize(
    ("units", "own"), [(HALF + 1, 0), (0, HALF + 1), (HALF + 1, HALF + 1)], ids=str
)
def test_a_split_cannot_pay_more_than_escrowed(scene: Scene, units: int, own: int) -> None:
    order_id = disputed(scene)
    before = ledger(scene)
    with reverts("OrderInvalidSplit", orderId=order_id, units=units, ownFunds=own):
        scene.world.send(fns(scene).resolveDispute(order_id, units, own), scene.issuer)
    assert ledger(scene) == before


def test_only_a_disputed_order_is_resolved(scene: Scene) -> None:
    order_id = delivered(scene)
    with reverts("OrderInvalidState", orderId=order_id, state=int(OrderState.DELIVERED)):
        scene.world.send(fns(scene).resolveDispute(order_id, 0, 0), scene.regulator)


# -- claim after the silent window, expiry after the deadline -----------------------------------


def test_institution_claims_after_the_confirmation_window(scene: Scene) -> None:
    w = scene.world
    order_id = delivered(scene)
    claimable_at = int(w.order(order_id)[7]) + WINDOW  # deliveredAt + window
    before = ledger(scene)
    with reverts("OrderConfirmWindowOpen", orderId=order_id, claimableAt=claimable_at):
        w.send(fns(scene).claim(order_id), scene.inst)
    at(scene, claimable_at - 1)
    with reverts("OrderConfirmWindowOpen", orderId=order_id, claimableAt=claimable_at):
        w.send(fns(scene).claim(order_id), scene.inst)
    with reverts("ProtocolUnauthorizedAccount", account=scene.ent.account):
        w.send(fns(scene).claim(order_id), scene.ent)
    assert ledger(scene) == before
    at(scene, claimable_at)
    inst_money = w.balance(scene.inst)
    receipt = w.send(fns(scene).claim(order_id), scene.inst)
    settled = w.event(receipt, w.p.orders, "OrderSettled")
    assert settled["method"] == SettlementMethod.CLAIMED
    assert (settled["voucherValue"], settled["ownFunds"]) == (HALF, HALF)
    assert w.balance(scene.inst) == inst_money + PRICE
    assert state_of(scene, order_id) == OrderState.SETTLED


def test_an_undelivered_order_cannot_be_claimed(scene: Scene) -> None:
    w = scene.world
    order_id = place(scene)
    w.send(fns(scene).accept(order_id), scene.inst)
    w.travel(WINDOW + 1)
    with reverts("OrderInvalidState", orderId=order_id, state=int(OrderState.ACCEPTED)):
        w.send(fns(scene).claim(order_id), scene.inst)


@pytest.mark.parametrize(
    ("accepted", "by"),
    [(False, "ent"), (True, "inst"), (True, "issuer"), (False, "issuer")],
    ids=[
        "placed-by-enterprise",
        "accepted-by-institution",
        "accepted-by-issuer",
        "placed-by-issuer",
    ],
)
def test_open_orders_expire_after_the_deadline(scene: Scene, accepted: bool, by: str) -> None:
    w = scene.world
    before = ledger(scene)
    order_id = place(scene)
    if accepted:
        w.send(fns(scene).accept(order_id), scene.inst)
    deadline = int(terms(scene)[17])
    at(scene, deadline)
    with reverts("OrderNotExpirable", orderId=order_id, settlementDeadline=deadline):
        w.send(fns(scene).expire(order_id), scene.ent)
    at(scene, deadline + 1)
    caller: Org = getattr(scene, by)
    receipt = w.send(fns(scene).expire(order_id), caller)
    assert w.event(receipt, w.p.orders, "OrderExpired") == {"orderId": order_id, "byOrg": caller.id}
    assert ledger(scene) == before
    assert state_of(scene, order_id) == OrderState.EXPIRED


def test_the_escrow_pays_and_refunds_parties_whatever_their_status(scene: Scene) -> None:
    """Status stops a party acting, not being paid: a suspended institution is paid for what it
    delivered; a frozen enterprise gets its escrow back when its order expires."""
    w = scene.world
    before = ledger(scene)
    refunded, paid = place(scene), delivered(scene)
    w.send(w.p.registry.functions.suspend(scene.inst.id, 1), w.governor)
    w.send(fns(scene).confirm(paid), scene.ent)
    assert state_of(scene, paid) == OrderState.SETTLED
    w.send(w.p.registry.functions.freeze(scene.ent.id, 1), scene.regulator)
    past_deadline(scene)
    w.send(fns(scene).expire(refunded), scene.issuer)
    assert state_of(scene, refunded) == OrderState.EXPIRED
    after = ledger(scene)
    assert after[0] == before[0] - HALF and after[1] == before[1] - HALF  # one order paid
    assert after[2:4] == before[2:4]  # nothing left in the order book's escrow
    assert after[4] == before[4] + PRICE


def test_expiry_refusals(scene: Scene) -> None:
    w = scene.world
    delivered_id, disputed_id, placed_id = delivered(scene), disputed(scene), place(scene)
    past_deadline(scene)
    for order_id, state in (
        (delivered_id, OrderState.DELIVERED),
        (disputed_id, OrderState.DISPUTED),
    ):
        with reverts("OrderInvalidState", orderId=order_id, state=int(state)):
            w.send(fns(scene).expire(order_id), scene.ent)
    with reverts("OrderNotParty", orderId=placed_id, orgId=scene.ent2.id):
        w.send(fns(scene).expire(placed_id), scene.ent2)
    with reverts("ProtocolUnauthorizedAccount", account=scene.regulator.account):
        w.send(fns(scene).expire(placed_id), scene.regulator)
    assert state_of(scene, placed_id) == OrderState.PLACED


# -- close --------------------------------------------------------------------------------------


def close(s: Scene, by: Org | None = None) -> TxReceipt:
    return s.world.send(s.world.p.programs.functions.close(s.program), by or s.issuer)


def test_close_waits_for_the_deadline_and_for_open_orders(scene: Scene) -> None:
    w = scene.world
    deadline = int(terms(scene)[17])
    delivered_id, placed_id = delivered(scene), place(scene)
    at(scene, deadline)
    with reverts(
        "ProgramNotEnded", programId=scene.program, settlementDeadline=deadline, timestamp=deadline
    ):
        close(scene)
    at(scene, deadline + 1)
    with reverts("ProgramHasOpenOrders", programId=scene.program, openOrders=2):
        close(scene)
    w.send(fns(scene).expire(placed_id), scene.issuer)
    with reverts("ProgramHasOpenOrders", programId=scene.program, openOrders=1):
        close(scene)
    w.send(fns(scene).claim(delivered_id), scene.inst)
    close(scene)
    assert w.state(scene.program)[1] is True


@pytest.mark.parametrize("by", ["issuer", "finance"])
def test_close_expires_vouchers_and_returns_exactly_the_unused_escrow(
    scene: Scene, by: str
) -> None:
    w, pid = scene.world, scene.program
    w.send(fns(scene).confirm(delivered(scene)), scene.ent)  # HALF redeemed and paid
    w.send(w.p.programs.functions.revoke(pid, scene.ent2.id, 5_000 * YUAN, 4), scene.issuer)
    past_deadline(scene)
    finance_money, pool = w.balance(scene.finance), w.balance(w.p.programs.address)
    unused = BUDGET - HALF
    assert view(scene, "escrowed", pid) == unused

    receipt = close(scene, getattr(scene, by))
    left = 20_000 * YUAN - HALF
    assert w.event(receipt, w.p.programs, "ProgramClosed") == {
        "programId": pid,
        "expiredUnits": left + 3_000 * YUAN,
        "remainingEscrow": unused,
    }
    expired = {
        e["args"]["enterpriseOrg"]: e["args"]["units"]
        for e in w.events(receipt, w.p.programs, "VouchersExpired")
    }
    assert expired == {scene.ent.id: left, scene.ent3.id: 3_000 * YUAN}  # ent2 holds none
    assert w.event(receipt, w.p.programs, "BudgetReturned") == {
        "programId": pid,
        "financeOrg": scene.finance.id,
        "amount": unused,
    }
    assert w.events(receipt, w.p.programs, "BudgetRolledOver") == []
    assert w.balance(scene.finance) == finance_money + unused
    assert w.balance(w.p.programs.address) == pool - unused
    assert view(scene, "escrowed", pid) == 0
    assert view(scene, "outstandingUnits", pid) == 0
    assert [w.vouchers(e, pid) for e in (scene.ent, scene.ent2, scene.ent3)] == [0, 0, 0]
    state = w.state(pid)
    assert (state[1], state[5], state[6]) == (True, HALF, unused)  # closed, paid, returned
    with reverts("ProgramIsClosed", programId=pid):
        close(scene)


def test_only_its_issuer_or_finance_closes(scene: Scene) -> None:
    w = scene.world
    past_deadline(scene)
    before = ledger(scene)
    for other in (w.issuer(ZHEJIANG), w.finance(ZHEJIANG)):
        with reverts("ProgramNotIssuer", programId=scene.program, orgId=other.id):
            close(scene, other)
    for caller in (scene.ent, scene.regulator):
        with reverts(
            "ProtocolUnauthorizedAccount",
            account=caller.account,
            allowedKinds=int(KindMask.ISSUER | KindMask.FINANCE),
        ):
            close(scene, caller)
    assert ledger(scene) == before
    assert w.state(scene.program)[1] is False


def next_year(s: Scene, **overrides: Any) -> int:
    """A program for the next fiscal year whose issuance is still open after this one's deadline."""
    now = s.world.now()
    schedule = {
        "fiscal_year": 2027,
        "issue_end": now + 400 * DAY,
        "expiry": now + 500 * DAY,
        "settlement_deadline": now + 530 * DAY,
    }
    return s.world.create_program(s.issuer, s.world.terms(s.finance, **(schedule | overrides)))


def test_unused_escrow_rolls_into_next_years_program(scene: Scene) -> None:
    w, pid = scene.world, scene.program
    target = next_year(scene)
    receipt = w.send(w.p.programs.functions.setRollover(pid, target), scene.issuer)
    assert w.event(receipt, w.p.programs, "RolloverSet") == {"programId": pid, "targetId": target}
    past_deadline(scene)
    finance_money, pool = w.balance(scene.finance), w.balance(w.p.programs.address)

    receipt = close(scene, scene.finance)
    assert w.event(receipt, w.p.programs, "BudgetRolledOver") == {
        "programId": pid,
        "targetId": target,
        "amount": BUDGET,
    }
    assert w.events(receipt, w.p.programs, "BudgetReturned") == []
    assert w.balance(scene.finance) == finance_money
    assert w.balance(w.p.programs.address) == pool
    assert view(scene, "escrowed", pid) == 0
    assert view(scene, "escrowed", target) == BUDGET
    assert w.state(target)[4] == BUDGET  # rolledIn
    w.issue(scene.issuer, target, scene.ent2, BUDGET)  # the rolled-in budget backs new vouchers
    assert w.vouchers(scene.ent2, target) == BUDGET


def test_a_closed_rollover_target_sends_the_budget_back_to_finance(scene: Scene) -> None:
    w = scene.world
    now = w.now()
    target = next_year(scene, issue_end=now + DAY, expiry=now + DAY, settlement_deadline=now + DAY)
    w.send(w.p.programs.functions.setRollover(scene.program, target), scene.issuer)
    past_deadline(scene)
    w.send(w.p.programs.functions.close(target), scene.issuer)
    finance_money = w.balance(scene.finance)
    receipt = close(scene)
    assert w.event(receipt, w.p.programs, "BudgetReturned")["amount"] == BUDGET
    assert w.balance(scene.finance) == finance_money + BUDGET
    assert view(scene, "escrowed", target) == 0


def _rollover_target(s: Scene, case: str) -> int:
    w = s.world
    if case == "itself":
        return s.program
    if case == "unknown":
        return 99
    if case == "other-issuer":
        return w.create_program(w.issuer(ZHEJIANG), w.terms(s.finance, fiscal_year=2027))
    if case == "other-finance":
        return next_year(s, finance_org=w.finance(SHANGHAI).id)
    if case == "reward-kind":
        return next_year(s, kind=ProgramKind.REWARD)
    if case == "closed":
        now = w.now()
        target = next_year(s, issue_end=now + DAY, expiry=now + DAY, settlement_deadline=now + DAY)
        w.travel(DAY + 1)
        w.send(w.p.programs.functions.close(target), s.issuer)
        return target
    return next_year(s, fiscal_year={"same-year": 2026, "two-years-later": 2028}[case])


@pytest.mark.parametrize(
    "case",
    [
        "itself",
        "unknown",
        "other-issuer",
        "other-finance",
        "reward-kind",
        "closed",
        "same-year",
        "two-years-later",
    ],
)
def test_invalid_rollover_targets(scene: Scene, case: str) -> None:
    w = scene.world
    target = _rollover_target(scene, case)
    with reverts("ProgramInvalidRollover", programId=scene.program, targetId=target):
        w.send(w.p.programs.functions.setRollover(scene.program, target), scene.issuer)
    assert w.state(scene.program)[2] == 0  # rolloverTo


def test_only_the_issuer_sets_the_rollover(scene: Scene) -> None:
    w = scene.world
    target = next_year(scene)
    for caller, error in (
        (w.issuer(ZHEJIANG), "ProgramNotIssuer"),
        (scene.finance, "ProtocolUnauthorizedAccount"),
    ):
        with reverts(error):
            w.send(w.p.programs.functions.setRollover(scene.program, target), caller)
    assert w.state(scene.program)[2] == 0


CLOSED_REFUSALS: list[str] = ["fund", "issue", "apply", "placeOrder", "revoke", "setRollover"]


@pytest.mark.parametrize("operation", CLOSED_REFUSALS)
def test_a_closed_program_refuses_everything(scene: Scene, operation: str) -> None:
    w, pid = scene.world, scene.program
    target = next_year(scene) if operation == "setRollover" else 0
    w.deposit(scene.finance, 1_000 * YUAN)
    past_deadline(scene)
    close(scene)
    programs = w.p.programs.functions
    calls: dict[str, tuple[Any, Org]] = {
        "fund": (programs.fund(pid, 1_000 * YUAN), scene.finance),
        "issue": (programs.issue(pid, scene.ent.id, 1, w.request_id()), scene.issuer),
        "apply": (programs.applyForVouchers(pid, 1, w.request_id()), scene.ent),
        "placeOrder": (
            fns(scene).placeOrder(scene.service, 1, pid, HALF, HALF, w.request_id()),
            scene.ent,
        ),
        "revoke": (programs.revoke(pid, scene.ent.id, 1, 0), scene.regulator),
        "setRollover": (programs.setRollover(pid, target), scene.issuer),
    }
    fn, sender = calls[operation]
    before = ledger(scene)
    with reverts("ProgramIsClosed", programId=pid):
        w.send(fn, sender)
    assert ledger(scene) == before


# -- pause --------------------------------------------------------------------------------------


def _paused_operation(s: Scene, operation: str) -> Callable[[], TxReceipt]:
    """Prepares ``operation`` and returns the call that performs it."""
    w, programs = s.world, s.world.p.programs.functions
    if operation == "placeOrder":
        fn = fns(s).placeOrder(s.service, 1, s.program, HALF, HALF, w.request_id())
        return lambda: w.send(fn, s.ent)
    if operation == "accept":
        accept = fns(s).accept(place(s))
        return lambda: w.send(accept, s.inst)
    if operation == "confirm":
        confirm = fns(s).confirm(delivered(s))
        return lambda: w.send(confirm, s.ent)
    if operation == "cancel":
        cancel = fns(s).cancel(place(s))
        return lambda: w.send(cancel, s.ent)
    if operation == "reject":
        reject = fns(s).reject(place(s), 1)
        return lambda: w.send(reject, s.inst)
    if operation == "claim":
        claim = fns(s).claim(delivered(s))
        w.travel(WINDOW + 1)
        return lambda: w.send(claim, s.inst)
    if operation == "resolveDispute":
        resolve = fns(s).resolveDispute(disputed(s), HALF // 2, HALF // 2)
        return lambda: w.send(resolve, s.regulator)
    if operation == "expire":
        expire = fns(s).expire(place(s))
        past_deadline(s)
        return lambda: w.send(expire, s.ent)
    if operation == "close":
        past_deadline(s)
        return lambda: close(s)
    if operation == "issue":
        issue = programs.issue(s.program, s.ent2.id, 1_000, w.request_id())
        return lambda: w.send(issue, s.issuer)
    if operation == "apply":
        apply = programs.applyForVouchers(s.program, 1_000, w.request_id())
        return lambda: w.send(apply, s.ent2)
    if operation == "approveApplication":
        applied = w.send(programs.applyForVouchers(s.program, 1_000, w.request_id()), s.ent2)
        application = w.event(applied, w.p.programs, "ApplicationSubmitted")["applicationId"]
        approve = programs.approveApplication(application)
        return lambda: w.send(approve, s.issuer)
    if operation == "revoke":
        revoke = programs.revoke(s.program, s.ent2.id, 1_000, 1)
        return lambda: w.send(revoke, s.issuer)
    w.deposit(s.finance, 1_000 * YUAN)
    fund = programs.fund(s.program, 1_000 * YUAN)
    return lambda: w.send(fund, s.finance)


# every step that moves money or vouchers through an escrow (and accept and apply, which move
# nothing): the token does not check the pause for an escrow's own payments
# (SettlementToken.escrowPay/escrowPull), so each entry point must
PAUSED_OPERATIONS = [
    "placeOrder",
    "accept",
    "confirm",
    "cancel",
    "reject",
    "claim",
    "resolveDispute",
    "expire",
    "close",
    "issue",
    "apply",
    "approveApplication",
    "revoke",
    "fund",
]


@pytest.mark.parametrize("operation", PAUSED_OPERATIONS)
def test_pause_stops_value_moving_operations(scene: Scene, operation: str) -> None:
    w = scene.world
    perform = _paused_operation(scene, operation)
    w.send(w.p.registry.functions.pause(), w.governor)
    before = ledger(scene)
    with reverts("ProtocolPaused"):
        perform()
    assert ledger(scene) == before
    w.send(w.p.registry.functions.unpause(), w.governor)
    assert perform()["status"] == 1

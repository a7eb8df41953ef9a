"""Reward programs: enrolling institutions, and the reward paid on top of eligible settlements."""

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
    OrgKind,
    ProgramKind,
    Protocol,
    call,
)

PRICE = 10_000 * YUAN
HALF = PRICE // 2
REWARD_BUDGET = 10_000 * YUAN
REWARD_CAP = 1_500 * YUAN  # per institution
SHARE_BPS = 1_000  # 10% of the price paid


# -- a scene built once per module --------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    world: World
    issuer: Org
    finance: Org
    vouchers: int  # voucher program: quota in fen, 50% share, national
    reward: int  # reward program: 10% for Shanghai enterprises of up to 50 staff, testing/design
    ent: Org  # eligible for the reward; 100,000 yuan of vouchers and of own money
    inst: Org  # enrolled in the reward program
    service: int  # testing at PRICE
    novelty: int  # novelty search at PRICE: a category the reward does not pay for


def reward_terms(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": ProgramKind.REWARD,
        "share_bps": SHARE_BPS,
        "per_holder_cap": REWARD_CAP,
        "categories": Category.mask(Category.TESTING, Category.RD_DESIGN),
        "spend_regions": (SHANGHAI,),
        "eligible_regions": (SHANGHAI,),
        "eligible_kinds": int(KindMask.ENTERPRISE),
        "max_employees": 50,
        **overrides,
    }


@pytest.fixture(scope="module")
def base(_chain: tuple[EthereumTester, Web3, Protocol]) -> Iterator[Scene]:
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    seed = Seeder(World(tester=tester, w3=w3, protocol=protocol), "rewards")
    w = seed.world
    issuer, finance = seed.org(OrgKind.ISSUER, SHANGHAI), seed.org(OrgKind.FINANCE, SHANGHAI)
    vouchers = seed.program(issuer, finance, 1_000_000 * YUAN)
    now = w.now()
    schedule = {"issue_end": now + 30 * DAY, "expiry": now + 40 * DAY}
    reward = seed.program(
        issuer,
        finance,
        REWARD_BUDGET,
        **reward_terms(**schedule, settlement_deadline=now + 50 * DAY),
    )
    ent, inst = seed.org(OrgKind.ENTERPRISE, SHANGHAI), seed.institution(SHANGHAI)
    seed.issue(issuer, vouchers, ent, 100_000 * YUAN)
    seed.deposit(ent, 100_000 * YUAN)
    w.send(w.p.programs.functions.enrollBeneficiary(reward, inst.id), issuer)
    service = w.list_service(inst, Category.TESTING, PRICE)
    novelty = w.list_service(inst, Category.NOVELTY_SEARCH, PRICE)
    yield Scene(w, issuer, finance, vouchers, reward, ent, inst, service, novelty)
    tester.revert_to_snapshot(snapshot)


@pytest.fixture
def scene(base: Scene, world: World) -> Scene:
    return replace(base, world=world)


# -- helpers ------------------------------------------------------------------------------------


def view(s: Scene, name: str, *args: Any) -> Any:
    return call(getattr(s.world.p.programs.functions, name)(*args))


def delivered(s: Scene, ent: Org | None = None, service: int | None = None) -> int:
    order_id = s.world.place(ent or s.ent, service or s.service, s.vouchers, HALF, HALF)
    s.world.deliver(s.inst, order_id)
    return order_id


def settle(s: Scene, ent: Org | None = None, service: int | None = None) -> TxReceipt:
    ent = ent or s.ent
    order_id = delivered(s, ent, service)
    return s.world.send(s.world.p.orders.functions.confirm(order_id), ent)


def rewards_in(s: Scene, receipt: TxReceipt) -> list[dict[str, Any]]:
    return [dict(e["args"]) for e in s.world.events(receipt, s.world.p.programs, "RewardPaid")]


def holder(s: Scene, region: int = SHANGHAI, **kwargs: Any) -> Org:
    """Another enterprise (or team) with vouchers and own money to order with."""
    ent = s.world.enterprise(region, **kwargs)
    s.world.issue(s.issuer, s.vouchers, ent, 10_000 * YUAN)
    s.world.deposit(ent, 10_000 * YUAN)
    return ent


# -- enrolment ----------------------------------------------------------------------------------


def test_issuer_enrolls_an_institution(scene: Scene) -> None:
    w = scene.world
    inst = w.institution(SHANGHAI)
    receipt = w.send(w.p.programs.functions.enrollBeneficiary(scene.reward, inst.id), scene.issuer)
    assert w.event(receipt, w.p.programs, "BeneficiaryEnrolled") == {
        "programId": scene.reward,
        "institutionOrg": inst.id,
    }
    assert view(scene, "rewardProgramsOf", inst.id) == [scene.reward]


Enrolment = tuple[int, int, Org, str, dict[str, Any]]  # program, institution, caller, error, args


def _enrolment_refusal(s: Scene, case: str) -> Enrolment:
    w, r = s.world, s.reward
    args: dict[str, Any]
    if case == "not-an-institution":
        args = {"programId": r, "orgId": s.ent.id, "kind": int(OrgKind.ENTERPRISE)}
        return r, s.ent.id, s.issuer, "ProgramIneligibleKind", args
    if case == "outside-spend-regions":
        inst = w.institution(BEIJING)
        args = {"programId": r, "orgId": inst.id, "region": BEIJING}
        return r, inst.id, s.issuer, "ProgramIneligibleRegion", args
    if case == "already-enrolled":
        args = {"programId": r, "institutionOrg": s.inst.id}
        return r, s.inst.id, s.issuer, "ProgramEnrolmentRefused", args
    inst = w.institution(SHANGHAI)
    if case == "voucher-program":
        args = {"programId": s.vouchers, "kind": int(ProgramKind.VOUCHER)}
        return s.vouchers, inst.id, s.issuer, "ProgramWrongKind", args
    if case == "another-issuer":
        other = w.issuer(ZHEJIANG)
        return r, inst.id, other, "ProgramNotIssuer", {"programId": r, "orgId": other.id}
    regulator = w.regulator()
    args = {"account": regulator.account, "allowedKinds": int(KindMask.ISSUER)}
    return r, inst.id, regulator, "ProtocolUnauthorizedAccount", args


@pytest.mark.parametrize(
    "case",
    [
        "not-an-institution",
        "outside-spend-regions",
        "already-enrolled",
        "voucher-program",
        "another-issuer",
        "by-a-regulator",
    ],
)
def test_enrolment_refusals(scene: Scene, case: str) -> None:
    w = scene.world
    program, institution, caller, error, args = _enrolment_refusal(scene, case)
    before = view(scene, "rewardProgramsOf", institution)
    with reverts(error, **args):
        w.send(w.p.programs.functions.enrollBeneficiary(program, institution), caller)
    assert view(scene, "rewardProgramsOf", institution) == before


def test_an_institution_joins_at_most_eight_reward_programs(scene: Scene) -> None:
    w = scene.world
    programs = [
        w.create_program(scene.issuer, w.terms(scene.finance, **reward_terms())) for _ in range(8)
    ]
    for program in programs[:7]:
        w.send(w.p.programs.functions.enrollBeneficiary(program, scene.inst.id), scene.issuer)
    assert len(view(scene, "rewardProgramsOf", scene.inst.id)) == 8
    with reverts("ProgramEnrolmentRefused", programId=programs[7], institutionOrg=scene.inst.id):
        w.send(w.p.programs.functions.enrollBeneficiary(programs[7], scene.inst.id), scene.issuer)


def test_closed_reward_programs_do_not_count_against_the_limit(scene: Scene) -> None:
    """One reward program a fiscal year: after eight years an institution must still be able to
    join the ninth once earlier ones have closed."""
    w = scene.world
    for _ in range(7):
        program = w.create_program(scene.issuer, w.terms(scene.finance, **reward_terms()))
        w.send(w.p.programs.functions.enrollBeneficiary(program, scene.inst.id), scene.issuer)
    w.travel(50 * DAY + 1)
    w.send(w.p.programs.functions.close(scene.reward), scene.finance)
    ninth = w.create_program(scene.issuer, w.terms(scene.finance, **reward_terms()))
    receipt = w.send(w.p.programs.functions.enrollBeneficiary(ninth, scene.inst.id), scene.issuer)
    assert w.event(receipt, w.p.programs, "BeneficiaryEnrolled")["programId"] == ninth


# -- rewards paid -------------------------------------------------------------------------------


def test_settlement_pays_the_reward_on_top(scene: Scene) -> None:
    w = scene.world
    inst_money = w.balance(scene.inst)
    voucher_escrow = view(scene, "escrowed", scene.vouchers)
    receipt = settle(scene)
    assert rewards_in(scene, receipt) == [
        {
            "programId": scene.reward,
            "institutionOrg": scene.inst.id,
            "enterpriseOrg": scene.ent.id,
            "amount": PRICE * SHARE_BPS // 10_000,
        }
    ]
    settled = w.event(receipt, w.p.orders, "OrderSettled")
    assert (settled["voucherValue"], settled["ownFunds"]) == (HALF, HALF)
    assert w.balance(scene.inst) == inst_money + PRICE + 1_000 * YUAN
    assert view(scene, "rewardPaidOf", scene.reward, scene.inst.id) == 1_000 * YUAN
    assert w.state(scene.reward)[5] == 1_000 * YUAN  # paid
    assert view(scene, "escrowed", scene.reward) == REWARD_BUDGET - 1_000 * YUAN
    assert view(scene, "escrowed", scene.vouchers) == voucher_escrow - HALF


def test_reward_is_capped_per_institution(scene: Scene) -> None:
    w = scene.world
    paid = []
    for _ in range(3):
        before = w.balance(scene.inst)
        receipt = settle(scene)
        paid.append([r["amount"] for r in rewards_in(scene, receipt)])
        assert w.balance(scene.inst) == before + PRICE + sum(paid[-1])
    assert paid == [[1_000 * YUAN], [500 * YUAN], []]
    assert view(scene, "rewardPaidOf", scene.reward, scene.inst.id) == REWARD_CAP
    # The cap is per institution: another enrolled institution is still rewarded in full.
    other = w.institution(SHANGHAI)
    w.send(w.p.programs.functions.enrollBeneficiary(scene.reward, other.id), scene.issuer)
    order_id = w.place(
        scene.ent, w.list_service(other, Category.TESTING, PRICE), scene.vouchers, HALF, HALF
    )
    w.deliver(other, order_id)
    receipt = w.send(w.p.orders.functions.confirm(order_id), scene.ent)
    assert [(r["institutionOrg"], r["amount"]) for r in rewards_in(scene, receipt)] == [
        (other.id, 1_000 * YUAN)
    ]
    assert view(scene, "escrowed", scene.reward) == REWARD_BUDGET - REWARD_CAP - 1_000 * YUAN


def test_reward_is_capped_by_the_reward_escrow(scene: Scene) -> None:
    w = scene.world
    small = w.program(
        scene.issuer, scene.finance, budget=300 * YUAN, **reward_terms(per_holder_cap=0)
    )
    unfunded = w.program(scene.issuer, scene.finance, budget=0, **reward_terms(per_holder_cap=0))
    inst = w.institution(SHANGHAI)
    for program in (small, unfunded):
        w.send(w.p.programs.functions.enrollBeneficiary(program, inst.id), scene.issuer)
    service = w.list_service(inst, Category.RD_DESIGN, PRICE)
    amounts = []
    for _ in range(2):
        order_id = w.place(scene.ent, service, scene.vouchers, HALF, HALF)
        w.deliver(inst, order_id)
        before = w.balance(inst)
        receipt = w.send(w.p.orders.functions.confirm(order_id), scene.ent)
        amounts.append([(r["programId"], r["amount"]) for r in rewards_in(scene, receipt)])
        assert w.balance(inst) == before + PRICE + sum(a for _, a in amounts[-1])
    assert amounts == [[(small, 300 * YUAN)], []]
    assert view(scene, "escrowed", small) == 0


def _no_reward_setup(s: Scene, case: str) -> tuple[Org, int]:
    """Prepares ``case``; returns the enterprise that orders and the service it orders."""
    w = s.world
    if case == "enterprise-region":
        return holder(s, BEIJING), s.service
    if case == "enterprise-size":
        return holder(s, employees=51), s.service
    if case == "start-up-team":
        return holder(s, employees=3, kind=OrgKind.STARTUP_TEAM), s.service
    if case == "category":
        return s.ent, s.novelty
    if case == "reward-expired":
        w.travel(40 * DAY + 1)
        return s.ent, s.service
    w.travel(50 * DAY + 1)
    w.send(w.p.programs.functions.close(s.reward), s.finance)
    return s.ent, s.service


@pytest.mark.parametrize(
    "case",
    [
        "enterprise-region",
        "enterprise-size",
        "start-up-team",
        "category",
        "reward-expired",
        "reward-closed",
    ],
)
def test_no_reward_outside_the_reward_terms(scene: Scene, case: str) -> None:
    w = scene.world
    ent, service = _no_reward_setup(scene, case)
    escrow = view(scene, "escrowed", scene.reward)
    before = w.balance(scene.inst)
    receipt = settle(scene, ent, service)
    assert rewards_in(scene, receipt) == []
    assert w.event(receipt, w.p.orders, "OrderSettled")["institutionOrg"] == scene.inst.id
    assert w.balance(scene.inst) == before + PRICE  # settled all the same, with nothing on top
    assert view(scene, "rewardPaidOf", scene.reward, scene.inst.id) == 0
    assert view(scene, "escrowed", scene.reward) == escrow


def test_reward_is_paid_up_to_its_expiry_inclusive(scene: Scene) -> None:
    w = scene.world
    expiry = call(w.p.programs.functions.terms(scene.reward))[16]
    first, second = delivered(scene), delivered(scene)
    w.tester.time_travel(expiry)  # the next transaction runs at exactly the expiry
    receipt = w.send(w.p.orders.functions.confirm(first), scene.ent)
    assert [r["amount"] for r in rewards_in(scene, receipt)] == [1_000 * YUAN]
    receipt = w.send(w.p.orders.functions.confirm(second), scene.ent)  # one second later
    assert w.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == expiry + 1
    assert rewards_in(scene, receipt) == []


def _claimed(s: Scene) -> TxReceipt:
    order_id = delivered(s)
    s.world.travel(7 * DAY)
    return s.world.send(s.world.p.orders.functions.claim(order_id), s.inst)


def _resolved(units: int, own: int) -> Callable[[Scene], TxReceipt]:
    def resolve(s: Scene) -> TxReceipt:
        w, order_id = s.world, delivered(s)
        w.send(w.p.orders.functions.dispute(order_id, ZERO_ID), s.ent)
        return w.send(w.p.orders.functions.resolveDispute(order_id, units, own), s.issuer)

    return resolve


@pytest.mark.parametrize(
    ("settle_by", "reward"),
    [
        pytest.param(_claimed, 1_000 * YUAN, id="claim"),
        pytest.param(_resolved(HALF, HALF), 1_000 * YUAN, id="resolved-settle-all"),
        pytest.param(_resolved(2_500 * YUAN, 1_000 * YUAN), 350 * YUAN, id="resolved-split"),
        pytest.param(_resolved(0, 1_000 * YUAN), 100 * YUAN, id="resolved-own-funds-only"),
        pytest.param(_resolved(0, 0), 0, id="resolved-refund"),
    ],
)
def test_reward_is_a_share_of_what_was_paid(
    scene: Scene, settle_by: Callable[[Scene], TxReceipt], reward: int
) -> None:
    receipt = settle_by(scene)
    assert [r["amount"] for r in rewards_in(scene, receipt)] == ([reward] if reward else [])
    assert view(scene, "rewardPaidOf", scene.reward, scene.inst.id) == reward


def test_reward_counts_fixed_face_vouchers_at_their_value(scene: Scene) -> None:
    """The reward's base is the price paid: units × face value plus own funds (¥5,000 vouchers)."""
    w, face = scene.world, 5_000 * YUAN
    fixed = w.program(scene.issuer, scene.finance, face_value=face, min_units=1, max_units=2)
    w.issue(scene.issuer, fixed, scene.ent, 2)
    order_id = w.place(scene.ent, scene.service, fixed, 1, PRICE - face)
    w.deliver(scene.inst, order_id)
    receipt = w.send(w.p.orders.functions.confirm(order_id), scene.ent)
    redeemed = w.event(receipt, w.p.programs, "VouchersRedeemed")
    assert (redeemed["units"], redeemed["value"]) == (1, face)
    assert [r["amount"] for r in rewards_in(scene, receipt)] == [1_000 * YUAN]  # 10 % of ¥10,000


def test_only_the_order_book_redeems(scene: Scene) -> None:
    """redeem pays from escrow and accrues rewards on the own funds it is told: order book only."""
    w, programs = scene.world, scene.world.p.programs
    escrowed = view(scene, "escrowed", scene.vouchers)
    for caller in (scene.inst, scene.issuer, scene.finance):
        fn = programs.functions.redeem(scene.vouchers, scene.ent.id, scene.inst.id, 0, 1, PRICE)
        with reverts("ProgramOnlyOrderBook", caller=caller.account):
            w.send(fn, caller)
    assert view(scene, "escrowed", scene.vouchers) == escrowed
    assert view(scene, "rewardPaidOf", scene.reward, scene.inst.id) == 0


def test_closing_a_reward_program_returns_what_was_not_paid(scene: Scene) -> None:
    w = scene.world
    settle(scene)
    w.travel(50 * DAY + 1)
    before = w.balance(scene.finance)
    receipt = w.send(w.p.programs.functions.close(scene.reward), scene.issuer)
    left = REWARD_BUDGET - 1_000 * YUAN
    assert w.event(receipt, w.p.programs, "BudgetReturned") == {
        "programId": scene.reward,
        "financeOrg": scene.finance.id,
        "amount": left,
    }
    assert w.event(receipt, w.p.programs, "ProgramClosed")["expiredUnits"] == 0
    assert w.balance(scene.finance) == before + left
    assert view(scene, "escrowed", scene.reward) == 0

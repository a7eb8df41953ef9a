"""ProgramManager: creating a program (who may, which terms are valid) and funding its escrow."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from tests.world import (
    BEIJING,
    CHANGXING,
    DAY,
    HUZHOU,
    SHANGHAI,
    YUAN,
    Org,
    World,
    reverts,
)
from voucher_chain.contracts import (
    Category,
    KindMask,
    OrgKind,
    OrgStatus,
    ProgramKind,
    ProgramTerms,
    call,
)

STATE_FIELDS = (
    "issuerOrg",
    "closed",
    "rolloverTo",
    "funded",
    "rolledIn",
    "paid",
    "returned",
    "issuedUnits",
    "redeemedUnits",
    "revokedUnits",
    "expiredUnits",
)


@dataclass(frozen=True)
class Scene:
    world: World
    issuer: Org
    finance: Org


@pytest.fixture
def scene(world: World) -> Scene:
    return Scene(world=world, issuer=world.issuer(SHANGHAI), finance=world.finance(SHANGHAI))


def program_state(world: World, program_id: int) -> dict[str, Any]:
    return dict(zip(STATE_FIELDS, world.state(program_id), strict=True))


def program_count(world: World) -> int:
    return int(call(world.p.programs.functions.programCount()))


def escrowed(world: World, program_id: int) -> int:
    return int(call(world.p.programs.functions.escrowed(program_id)))


def plain(values: Any) -> tuple[Any, ...]:
    """A struct as returned by web3 or built by ``as_abi``, with arrays as tuples."""
    return tuple(tuple(v) if isinstance(v, list | tuple) else v for v in values)


def create(s: Scene, terms: ProgramTerms, sender: Org | None = None) -> Any:
    fn = s.world.p.programs.functions.createProgram(terms.as_abi())
    return s.world.send(fn, sender or s.issuer)


# -- createProgram: accepted --------------------------------------------------------------------

ACCEPTED_TERMS: list[Any] = [
    pytest.param(
        {"face_value": 5_000 * YUAN, "min_units": 1, "max_units": 40, "spend_regions": (BEIJING,)},
        id="beijing-fixed-face-value",
    ),
    pytest.param(
        {"face_value": 1, "per_holder_cap": 100_000 * YUAN, "spend_regions": (SHANGHAI,)},
        id="shanghai-quota-in-fen",
    ),
    pytest.param({"share_bps": 10_000}, id="share-100-percent"),
    pytest.param({"share_bps": 1}, id="share-one-bp"),
    pytest.param({"min_units": 3, "max_units": 3}, id="min-equals-max"),
    pytest.param(
        {"full_cover_threshold": 2_000 * YUAN, "share_bps": 5_000}, id="full-cover-threshold-tier"
    ),
    pytest.param(
        {"spend_regions": (SHANGHAI, HUZHOU, CHANGXING), "eligible_regions": (CHANGXING,)},
        id="province-prefecture-county-patterns",
    ),
    pytest.param({"eligible_kinds": int(KindMask.STARTUP_TEAM)}, id="start-up-teams-only"),
    pytest.param({"categories": Category.mask(Category.NOVELTY_SEARCH)}, id="one-category"),
    pytest.param(
        {"kind": ProgramKind.REWARD, "face_value": 0, "min_units": 0, "max_units": 0},
        id="reward-needs-no-face-value-or-units",
    ),
]


@pytest.mark.parametrize("overrides", ACCEPTED_TERMS)
def test_issuer_creates_program(scene: Scene, overrides: dict[str, Any]) -> None:
    w = scene.world
    terms = w.terms(scene.finance, **overrides)
    before = program_count(w)
    receipt = create(scene, terms)
    created = w.event(receipt, w.p.programs, "ProgramCreated")
    program_id = before + 1
    assert created == {
        "programId": program_id,
        "issuerOrg": scene.issuer.id,
        "financeOrg": scene.finance.id,
        "kind": int(terms.kind),
        "fiscalYear": terms.fiscal_year,
        "faceValue": terms.face_value,
    }
    assert program_count(w) == program_id
    assert plain(call(w.p.programs.functions.terms(program_id))) == plain(terms.as_abi())
    state = program_state(w, program_id)
    assert state.pop("issuerOrg") == scene.issuer.id
    assert state == dict.fromkeys(STATE_FIELDS[1:], 0)
    assert escrowed(w, program_id) == 0


def test_schedule_boundaries_are_inclusive(scene: Scene) -> None:
    """issueEnd may equal expiry, and expiry the settlement deadline."""
    now = scene.world.now()
    terms = scene.world.terms(
        scene.finance,
        issue_end=now + 10 * DAY,
        expiry=now + 10 * DAY,
        settlement_deadline=now + 10 * DAY,
    )
    receipt = create(scene, terms)
    assert scene.world.event(receipt, scene.world.p.programs, "ProgramCreated")["programId"] == 1


# -- createProgram: who may ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", [OrgKind.FINANCE, OrgKind.REGULATOR, OrgKind.BANK])
def test_only_an_issuer_creates_programs(scene: Scene, kind: OrgKind) -> None:
    w = scene.world
    caller = w.register(kind, SHANGHAI)
    with reverts(
        "ProtocolUnauthorizedAccount",
        account=caller.account,
        allowedKinds=int(KindMask.ISSUER),
    ):
        create(scene, w.terms(scene.finance), sender=caller)
    assert program_count(w) == 0


@pytest.mark.parametrize("kind", [OrgKind.ENTERPRISE, OrgKind.INSTITUTION])
def test_participants_cannot_create_programs(scene: Scene, kind: OrgKind) -> None:
    w = scene.world
    caller = w.register(kind, SHANGHAI, employees=10)
    with reverts("ProtocolUnauthorizedAccount", account=caller.account):
        create(scene, w.terms(scene.finance), sender=caller)
    assert program_count(w) == 0


def test_governor_and_unregistered_accounts_cannot_create_programs(scene: Scene) -> None:
    w = scene.world
    stranger = w.new_account()
    for sender in (w.governor.account, stranger):
        with reverts(
            "ProtocolUnauthorizedAccount", account=sender, allowedKinds=int(KindMask.ISSUER)
        ):
            w.send(w.p.programs.functions.createProgram(w.terms(scene.finance).as_abi()), sender)
    assert program_count(w) == 0


@pytest.mark.parametrize(
    ("action", "status"), [("suspend", OrgStatus.SUSPENDED), ("freeze", OrgStatus.FROZEN)]
)
def test_inactive_issuer_cannot_create_programs(
    scene: Scene, action: str, status: OrgStatus
) -> None:
    w = scene.world
    authority = w.regulator() if action == "freeze" else w.governor
    w.send(getattr(w.p.registry.functions, action)(scene.issuer.id, 7), authority)
    with reverts("ProtocolOrgNotActive", orgId=scene.issuer.id, status=int(status)):
        create(scene, w.terms(scene.finance))
    assert program_count(w) == 0


# -- createProgram: invalid terms ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["issuer", "enterprise", "governor", "unknown", "frozen-finance"])
def test_finance_must_be_an_active_finance_bureau(scene: Scene, who: str) -> None:
    w = scene.world
    if who == "issuer":
        finance_org = scene.issuer.id
    elif who == "enterprise":
        finance_org = w.enterprise(SHANGHAI).id
    elif who == "governor":
        finance_org = w.governor.id
    elif who == "unknown":
        finance_org = 999
    else:
        w.send(w.p.registry.functions.freeze(scene.finance.id, 1), w.regulator())
        finance_org = scene.finance.id
    with reverts("ProgramInvalidFinance", financeOrg=finance_org):
        create(scene, w.terms(scene.finance, finance_org=finance_org))
    assert program_count(w) == 0


@pytest.mark.parametrize(
    "days",
    [
        pytest.param((10, 10, 20, 30), id="start-equals-end"),
        pytest.param((11, 10, 20, 30), id="start-after-end"),
        pytest.param((-20, -1, 20, 30), id="end-in-the-past"),
        pytest.param((0, 21, 20, 30), id="end-after-expiry"),
        pytest.param((0, 10, 31, 30), id="expiry-after-deadline"),
    ],
)
def test_schedule_must_be_ordered(scene: Scene, days: tuple[int, int, int, int]) -> None:
    w = scene.world
    now = w.now()
    start, end, expiry, deadline = (now + d * DAY for d in days)
    terms = w.terms(
        scene.finance,
        issue_start=start,
        issue_end=end,
        expiry=expiry,
        settlement_deadline=deadline,
    )
    with reverts(
        "ProgramInvalidSchedule",
        issueStart=start,
        issueEnd=end,
        expiry=expiry,
        settlementDeadline=deadline,
    ):
        create(scene, terms)
    assert program_count(w) == 0


def test_issuance_must_end_after_the_creating_block(scene: Scene) -> None:
    w = scene.world
    moment = w.now() + DAY
    w.tester.time_travel(moment)  # the next transaction runs at exactly this time
    late = w.terms(scene.finance, issue_start=moment - DAY, issue_end=moment)
    with reverts("ProgramInvalidSchedule", issueStart=moment - DAY, issueEnd=moment):
        create(scene, late)
    assert program_count(w) == 0
    create(scene, replace(late, issue_end=moment + 1))  # runs at the same moment: one second left
    assert program_count(w) == 1


INVALID_TERMS: list[Any] = [
    pytest.param(
        {"categories": 0}, "ProgramInvalidCategories", {"categories": 0}, id="no-category"
    ),
    pytest.param(
        {"categories": 1 << 7}, "ProgramInvalidCategories", {"categories": 1 << 7}, id="bit-7"
    ),
    pytest.param(
        {"categories": 1 << 255},
        "ProgramInvalidCategories",
        {"categories": 1 << 255},
        id="bit-255",
    ),
    pytest.param(
        {"categories": Category.mask() | 1 << 7},
        "ProgramInvalidCategories",
        {"categories": Category.mask() | 1 << 7},
        id="all-defined-plus-undefined",
    ),
    pytest.param({"share_bps": 0}, "ProgramInvalidShare", {"shareBps": 0}, id="share-0"),
    pytest.param(
        {"share_bps": 10_001}, "ProgramInvalidShare", {"shareBps": 10_001}, id="share-10001"
    ),
    pytest.param(
        {"kind": ProgramKind.REWARD, "share_bps": 0},
        "ProgramInvalidShare",
        {"shareBps": 0},
        id="reward-share-0",
    ),
    pytest.param({"face_value": 0}, "ProgramInvalidFaceValue", {"faceValue": 0}, id="face-value-0"),
    pytest.param(
        {"min_units": 0},
        "ProgramInvalidUnits",
        {"minUnits": 0, "maxUnits": 2**32 - 1},
        id="min-units-0",
    ),
    pytest.param(
        {"min_units": 5, "max_units": 4},
        "ProgramInvalidUnits",
        {"minUnits": 5, "maxUnits": 4},
        id="min-above-max",
    ),
    pytest.param(
        {"eligible_kinds": 0},
        "ProgramInvalidEligibility",
        {"eligibleKinds": 0},
        id="no-eligible-kind",
    ),
    pytest.param(
        {"eligible_kinds": int(KindMask.VOUCHER_HOLDERS | KindMask.INSTITUTION)},
        "ProgramInvalidEligibility",
        {"eligibleKinds": int(KindMask.VOUCHER_HOLDERS | KindMask.INSTITUTION)},
        id="includes-institutions",
    ),
    pytest.param(
        {"eligible_kinds": int(KindMask.ISSUER)},
        "ProgramInvalidEligibility",
        {"eligibleKinds": int(KindMask.ISSUER)},
        id="issuers",
    ),
    pytest.param(
        {"eligible_kinds": 1},
        "ProgramInvalidEligibility",
        {"eligibleKinds": 1},
        id="kind-none-bit",
    ),
    pytest.param(
        {"spend_regions": ()}, "ProgramInvalidRegion", {"pattern": 0}, id="no-spend-region"
    ),
    pytest.param(
        {"eligible_regions": ()}, "ProgramInvalidRegion", {"pattern": 0}, id="no-eligible-region"
    ),
    pytest.param(
        {"spend_regions": (12345,)}, "ProgramInvalidRegion", {"pattern": 12345}, id="five-digits"
    ),
    pytest.param(
        {"spend_regions": (SHANGHAI, 109_999)},
        "ProgramInvalidRegion",
        {"pattern": 109_999},
        id="below-first-province",
    ),
    pytest.param(
        {"eligible_regions": (SHANGHAI, 1_000_000)},
        "ProgramInvalidRegion",
        {"pattern": 1_000_000},
        id="seven-digits",
    ),
]


@pytest.mark.parametrize(("overrides", "error", "args"), INVALID_TERMS)
def test_invalid_terms_are_refused(
    scene: Scene, overrides: dict[str, Any], error: str, args: dict[str, Any]
) -> None:
    w = scene.world
    with reverts(error, **args):
        create(scene, w.terms(scene.finance, **overrides))
    assert program_count(w) == 0


# -- fund ---------------------------------------------------------------------------------------


def test_finance_funds_the_escrow(scene: Scene) -> None:
    w = scene.world
    program_id = w.create_program(scene.issuer, w.terms(scene.finance))
    w.deposit(scene.finance, 1_000 * YUAN)
    pool = w.balance(w.p.programs.address)

    receipt = w.send(w.p.programs.functions.fund(program_id, 600 * YUAN), scene.finance)
    assert w.event(receipt, w.p.programs, "ProgramFunded") == {
        "programId": program_id,
        "financeOrg": scene.finance.id,
        "amount": 600 * YUAN,
    }
    assert escrowed(w, program_id) == 600 * YUAN
    assert w.balance(scene.finance) == 400 * YUAN
    assert w.balance(w.p.programs.address) == pool + 600 * YUAN

    w.send(w.p.programs.functions.fund(program_id, 400 * YUAN), scene.finance)
    assert escrowed(w, program_id) == 1_000 * YUAN
    assert program_state(w, program_id)["funded"] == 1_000 * YUAN
    assert w.balance(scene.finance) == 0
    assert w.balance(w.p.programs.address) == pool + 1_000 * YUAN


def _fund_unchanged(w: World, program_id: int, finance: Org) -> tuple[int, int, int]:
    return escrowed(w, program_id), w.balance(finance), w.balance(w.p.programs.address)


def test_only_the_programs_finance_funds(scene: Scene) -> None:
    w = scene.world
    program_id = w.create_program(scene.issuer, w.terms(scene.finance))
    other = w.finance(BEIJING)
    w.deposit(other, 1_000 * YUAN)
    before = _fund_unchanged(w, program_id, other)
    with reverts("ProgramNotFinance", programId=program_id, orgId=other.id):
        w.send(w.p.programs.functions.fund(program_id, 100 * YUAN), other)
    assert _fund_unchanged(w, program_id, other) == before


@pytest.mark.parametrize("who", ["issuer", "enterprise", "regulator"])
def test_non_finance_cannot_fund(scene: Scene, who: str) -> None:
    w = scene.world
    program_id = w.create_program(scene.issuer, w.terms(scene.finance))
    caller = {
        "issuer": lambda: scene.issuer,
        "enterprise": lambda: w.enterprise(SHANGHAI),
        "regulator": w.regulator,
    }[who]()
    with reverts(
        "ProtocolUnauthorizedAccount",
        account=caller.account,
        allowedKinds=int(KindMask.FINANCE),
    ):
        w.send(w.p.programs.functions.fund(program_id, 100 * YUAN), caller)
    assert escrowed(w, program_id) == 0


def test_frozen_finance_cannot_fund(scene: Scene) -> None:
    w = scene.world
    program_id = w.create_program(scene.issuer, w.terms(scene.finance))
    w.deposit(scene.finance, 1_000 * YUAN)
    w.send(w.p.registry.functions.freeze(scene.finance.id, 3), w.regulator())
    before = _fund_unchanged(w, program_id, scene.finance)
    with reverts("ProtocolOrgNotActive", orgId=scene.finance.id, status=int(OrgStatus.FROZEN)):
        w.send(w.p.programs.functions.fund(program_id, 100 * YUAN), scene.finance)
    assert _fund_unchanged(w, program_id, scene.finance) == before


def test_zero_funding_is_refused(scene: Scene) -> None:
    w = scene.world
    program_id = w.create_program(scene.issuer, w.terms(scene.finance))
    w.deposit(scene.finance, 1_000 * YUAN)
    before = _fund_unchanged(w, program_id, scene.finance)
    with reverts("ProtocolZeroAmount"):
        w.send(w.p.programs.functions.fund(program_id, 0), scene.finance)
    assert _fund_unchanged(w, program_id, scene.finance) == before


def test_funding_needs_the_money(scene: Scene) -> None:
    w = scene.world
    program_id = w.create_program(scene.issuer, w.terms(scene.finance))
    w.deposit(scene.finance, 500 * YUAN)
    before = _fund_unchanged(w, program_id, scene.finance)
    with reverts(
        "ERC20InsufficientBalance",
        sender=scene.finance.vault,
        balance=500 * YUAN,
        needed=500 * YUAN + 1,
    ):
        w.send(w.p.programs.functions.fund(program_id, 500 * YUAN + 1), scene.finance)
    assert _fund_unchanged(w, program_id, scene.finance) == before
    assert program_state(w, program_id)["funded"] == 0


def test_funding_an_unknown_program_is_refused(scene: Scene) -> None:
    w = scene.world
    w.deposit(scene.finance, 500 * YUAN)
    with reverts("ProgramUnknown", programId=42):
        w.send(w.p.programs.functions.fund(42, 100 * YUAN), scene.finance)
    assert w.balance(scene.finance) == 500 * YUAN


def test_a_closed_program_cannot_be_funded(scene: Scene) -> None:
    w = scene.world
    now = w.now()
    program_id = w.program(
        scene.issuer,
        scene.finance,
        budget=300 * YUAN,
        issue_end=now + DAY,
        expiry=now + 2 * DAY,
        settlement_deadline=now + 3 * DAY,
    )
    w.travel(3 * DAY + 1)
    w.send(w.p.programs.functions.close(program_id), scene.finance)
    assert w.balance(scene.finance) == 300 * YUAN
    with reverts("ProgramIsClosed", programId=program_id):
        w.send(w.p.programs.functions.fund(program_id, 100 * YUAN), scene.finance)
    assert w.balance(scene.finance) == 300 * YUAN
    assert escrowed(w, program_id) == 0

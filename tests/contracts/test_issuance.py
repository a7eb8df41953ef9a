"""ProgramManager issuance: applications, approval, direct issue, caps, escrow cover, revocation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_tester import EthereumTester
from web3 import Web3
from web3.types import TxReceipt

from tests.contracts.seeder import ZERO_ID, Seeder
from tests.world import (
    BEIJING_HAIDIAN,
    CHANGXING,
    DAY,
    HANGZHOU,
    HUZHOU,
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
    KindMask,
    OrgKind,
    OrgStatus,
    ProgramKind,
    Protocol,
    call,
)

CAP = 100_000 * YUAN
BUDGET = 1_000_000 * YUAN
PENDING, APPROVED, REJECTED = 1, 2, 3


# -- a scene built once per module --------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    world: World
    issuer: Org
    finance: Org
    program: int  # quota in fen, capped per enterprise, Shanghai enterprises of up to 50 staff
    ent: Org


@pytest.fixture(scope="module")
def base(_chain: tuple[EthereumTester, Web3, Protocol]) -> Iterator[Scene]:
    tester, w3, protocol = _chain
    snapshot = tester.take_snapshot()
    seed = Seeder(World(tester=tester, w3=w3, protocol=protocol), "issuance")
    issuer, finance = seed.org(OrgKind.ISSUER, SHANGHAI), seed.org(OrgKind.FINANCE, SHANGHAI)
    program = seed.program(
        issuer,
        finance,
        BUDGET,
        per_holder_cap=CAP,
        eligible_regions=(SHANGHAI,),
        max_employees=50,
    )
    ent = seed.org(OrgKind.ENTERPRISE, SHANGHAI_PUDONG)
    yield Scene(world=seed.world, issuer=issuer, finance=finance, program=program, ent=ent)
    tester.revert_to_snapshot(snapshot)


@pytest.fixture
def scene(base: Scene, world: World) -> Scene:
    return replace(base, world=world)


def hexid(request_id: bytes) -> str:
    return "0x" + request_id.hex()


def apply(
    s: Scene, ent: Org, units: int, program: int | None = None, rid: bytes | None = None
) -> TxReceipt:
    fn = s.world.p.programs.functions.applyForVouchers(
        program or s.program, units, s.world.request_id() if rid is None else rid
    )
    return s.world.send(fn, ent)


def issue(
    s: Scene,
    ent: Org,
    units: int,
    *,
    program: int | None = None,
    rid: bytes | None = None,
    by: Org | None = None,
) -> TxReceipt:
    fn = s.world.p.programs.functions.issue(
        program or s.program, ent.id, units, s.world.request_id() if rid is None else rid
    )
    return s.world.send(fn, by or s.issuer)


def application(s: Scene, application_id: int) -> tuple[Any, ...]:
    return tuple(call(s.world.p.programs.functions.application(application_id)))


def view(s: Scene, name: str, *args: Any) -> Any:
    return call(getattr(s.world.p.programs.functions, name)(*args))


def totals(s: Scene, program: int | None = None) -> tuple[Any, ...]:
    """Everything issuance can change, to compare before and after a refused call."""
    pid = program or s.program
    return (
        tuple(s.world.state(pid)),
        view(s, "applicationCount"),
        view(s, "outstandingUnits", pid),
        s.world.vouchers(s.ent, pid),
        view(s, "issuedValueOf", pid, s.ent.id),
    )


# -- applications -------------------------------------------------------------------------------


def test_enterprise_applies_and_the_issuer_approves(scene: Scene) -> None:
    w, pid = scene.world, scene.program
    rid = w.request_id()
    receipt = apply(scene, scene.ent, 30_000 * YUAN, rid=rid)
    assert w.event(receipt, w.p.programs, "ApplicationSubmitted") == {
        "applicationId": 1,
        "programId": pid,
        "enterpriseOrg": scene.ent.id,
        "units": 30_000 * YUAN,
        "requestId": rid,
    }
    assert application(scene, 1) == (pid, scene.ent.id, 30_000 * YUAN, PENDING, rid)
    assert view(scene, "requestUsed", rid) is True
    assert w.vouchers(scene.ent, pid) == 0

    receipt = w.send(w.p.programs.functions.approveApplication(1), scene.issuer)
    assert w.event(receipt, w.p.programs, "VouchersIssued") == {
        "programId": pid,
        "enterpriseOrg": scene.ent.id,
        "applicationId": 1,
        "units": 30_000 * YUAN,
        "value": 30_000 * YUAN,
        "requestId": rid,  # the application's
    }
    assert application(scene, 1)[3] == APPROVED
    assert w.vouchers(scene.ent, pid) == 30_000 * YUAN
    assert view(scene, "issuedValueOf", pid, scene.ent.id) == 30_000 * YUAN
    assert view(scene, "holders", pid) == [scene.ent.id]
    assert view(scene, "outstandingUnits", pid) == 30_000 * YUAN


def test_issuer_rejects_an_application(scene: Scene) -> None:
    w = scene.world
    apply(scene, scene.ent, 10_000 * YUAN)
    receipt = w.send(w.p.programs.functions.rejectApplication(1, 42), scene.issuer)
    assert w.event(receipt, w.p.programs, "ApplicationRejected") == {
        "applicationId": 1,
        "programId": scene.program,
        "reasonCode": 42,
    }
    assert application(scene, 1)[3] == REJECTED
    assert w.vouchers(scene.ent, scene.program) == 0
    assert view(scene, "issuedValueOf", scene.program, scene.ent.id) == 0


STARTUPS, FIRMS = int(KindMask.STARTUP_TEAM), int(KindMask.ENTERPRISE)
Applicant = tuple[OrgKind, int, int]  # kind, region, employees
ENT = OrgKind.ENTERPRISE


def _eligible(terms: dict[str, Any], who: Applicant, name: str) -> Any:
    return pytest.param(terms, who, None, {}, id=name)


def _refused(terms: dict[str, Any], who: Applicant, error: str, name: str, **args: Any) -> Any:
    return pytest.param(terms, who, error, args, id=name)


ELIGIBILITY: list[Any] = [
    _eligible({"eligible_regions": (SHANGHAI,)}, (ENT, SHANGHAI_PUDONG, 20), "province-prefix"),
    _eligible({"eligible_regions": (HUZHOU,)}, (ENT, CHANGXING, 20), "prefecture-prefix"),
    _eligible({"eligible_regions": (CHANGXING,)}, (ENT, CHANGXING, 20), "county-exact"),
    _eligible({"eligible_regions": (SHANGHAI, HANGZHOU)}, (ENT, 330106, 20), "second-pattern"),
    _eligible({"eligible_regions": (0,)}, (ENT, WUHAN, 20), "national"),
    _eligible({"eligible_kinds": STARTUPS}, (OrgKind.STARTUP_TEAM, SHANGHAI, 3), "start-up-team"),
    _eligible({"max_employees": 50}, (ENT, SHANGHAI, 50), "at-max-employees"),
    _refused({"eligible_kinds": FIRMS}, (OrgKind.STARTUP_TEAM, SHANGHAI, 3),
             "ProgramIneligibleKind", "firms-only", kind=int(OrgKind.STARTUP_TEAM)),
    _refused({"eligible_kinds": STARTUPS}, (ENT, SHANGHAI, 3),
             "ProgramIneligibleKind", "start-ups-only", kind=int(ENT)),
    _refused({"eligible_regions": (SHANGHAI,)}, (ENT, BEIJING_HAIDIAN, 3),
             "ProgramIneligibleRegion", "other-province", region=BEIJING_HAIDIAN),
    _refused({"eligible_regions": (HUZHOU,)}, (ENT, HANGZHOU, 3),
             "ProgramIneligibleRegion", "other-prefecture", region=HANGZHOU),
    _refused({"eligible_regions": (HUZHOU,)}, (ENT, ZHEJIANG, 3),
             "ProgramIneligibleRegion", "province-code-vs-prefecture", region=ZHEJIANG),
    _refused({"eligible_regions": (CHANGXING,)}, (ENT, 330521, 3),
             "ProgramIneligibleRegion", "other-county", region=330521),
    _refused({"max_employees": 50}, (ENT, SHANGHAI, 51),
             "ProgramIneligibleSize", "too-big", employees=51, maxEmployees=50),
]  # fmt: skip


@pytest.mark.parametrize(("terms", "who", "error", "args"), ELIGIBILITY)
def test_eligibility_by_kind_region_and_size(
    scene: Scene, terms: dict[str, Any], who: Applicant, error: str | None, args: dict[str, Any]
) -> None:
    w = scene.world
    kind, region, employees = who
    pid = w.program(scene.issuer, scene.finance, budget=1_000 * YUAN, **terms)
    applicant = w.enterprise(region, employees=employees, kind=kind)
    rid = w.request_id()
    if error is None:
        receipt = apply(scene, applicant, 1_000 * YUAN, program=pid, rid=rid)
        assert (
            w.event(receipt, w.p.programs, "ApplicationSubmitted")["enterpriseOrg"] == applicant.id
        )
        w.send(w.p.programs.functions.approveApplication(1), scene.issuer)
        assert w.vouchers(applicant, pid) == 1_000 * YUAN
        return
    with reverts(error, programId=pid, orgId=applicant.id, **args):
        apply(scene, applicant, 1_000 * YUAN, program=pid, rid=rid)
    with reverts(error, programId=pid, orgId=applicant.id, **args):
        issue(scene, applicant, 1_000 * YUAN, program=pid)
    assert view(scene, "applicationCount") == 0
    assert view(scene, "requestUsed", rid) is False
    assert w.vouchers(applicant, pid) == 0


def test_institutions_can_neither_apply_nor_be_issued_vouchers(scene: Scene) -> None:
    w = scene.world
    inst = w.institution(SHANGHAI)
    with reverts(
        "ProtocolUnauthorizedAccount",
        account=inst.account,
        allowedKinds=int(KindMask.VOUCHER_HOLDERS),
    ):
        apply(scene, inst, 1_000)
    with reverts(
        "ProgramIneligibleKind",
        programId=scene.program,
        orgId=inst.id,
        kind=int(OrgKind.INSTITUTION),
    ):
        issue(scene, inst, 1_000)
    assert view(scene, "holders", scene.program) == []


@pytest.mark.parametrize("decision", ["approveApplication", "rejectApplication"])
def test_another_issuer_cannot_decide(scene: Scene, decision: str) -> None:
    w = scene.world
    apply(scene, scene.ent, 1_000)
    other = w.issuer(ZHEJIANG)
    args = (1,) if decision == "approveApplication" else (1, 0)
    with reverts("ProgramNotIssuer", programId=scene.program, orgId=other.id):
        w.send(getattr(w.p.programs.functions, decision)(*args), other)
    for kind in (OrgKind.REGULATOR, OrgKind.FINANCE):
        caller = w.register(kind, SHANGHAI)
        with reverts(
            "ProtocolUnauthorizedAccount",
            account=caller.account,
            allowedKinds=int(KindMask.ISSUER),
        ):
            w.send(getattr(w.p.programs.functions, decision)(*args), caller)
    assert application(scene, 1)[3] == PENDING
    assert w.vouchers(scene.ent, scene.program) == 0


@pytest.mark.parametrize("first", ["approveApplication", "rejectApplication"])
@pytest.mark.parametrize("second", ["approveApplication", "rejectApplication"])
def test_an_application_is_decided_once(scene: Scene, first: str, second: str) -> None:
    w = scene.world
    apply(scene, scene.ent, 1_000)
    args = {"approveApplication": (1,), "rejectApplication": (1, 0)}
    w.send(getattr(w.p.programs.functions, first)(*args[first]), scene.issuer)
    before = totals(scene)
    with reverts("ProgramApplicationNotPending", applicationId=1):
        w.send(getattr(w.p.programs.functions, second)(*args[second]), scene.issuer)
    assert totals(scene) == before
    with reverts("ProgramApplicationNotPending", applicationId=9):
        w.send(w.p.programs.functions.approveApplication(9), scene.issuer)


def test_approval_rechecks_the_escrow(scene: Scene) -> None:
    """Two applications each fit the escrow alone; the second approval must not overdraw it."""
    w = scene.world
    pid = w.program(scene.issuer, scene.finance, budget=1_000 * YUAN)
    other = w.enterprise(SHANGHAI)
    apply(scene, scene.ent, 600 * YUAN, program=pid)
    apply(scene, other, 600 * YUAN, program=pid)
    w.send(w.p.programs.functions.approveApplication(1), scene.issuer)
    with reverts(
        "ProgramInsufficientEscrow", programId=pid, requested=600 * YUAN, available=400 * YUAN
    ):
        w.send(w.p.programs.functions.approveApplication(2), scene.issuer)
    assert application(scene, 2)[3] == PENDING
    assert w.vouchers(other, pid) == 0


# -- issuance rules -----------------------------------------------------------------------------


def test_issuer_issues_directly(scene: Scene) -> None:
    w = scene.world
    rid = w.request_id()
    receipt = issue(scene, scene.ent, 5_000 * YUAN, rid=rid)
    assert w.event(receipt, w.p.programs, "VouchersIssued") == {
        "programId": scene.program,
        "enterpriseOrg": scene.ent.id,
        "applicationId": 0,
        "units": 5_000 * YUAN,
        "value": 5_000 * YUAN,
        "requestId": rid,
    }
    assert w.vouchers(scene.ent, scene.program) == 5_000 * YUAN
    assert view(scene, "requestUsed", rid) is True
    assert w.state(scene.program)[7] == 5_000 * YUAN  # issuedUnits


def test_only_the_programs_issuer_issues(scene: Scene) -> None:
    w = scene.world
    before = totals(scene)
    other = w.issuer(ZHEJIANG)
    with reverts("ProgramNotIssuer", programId=scene.program, orgId=other.id):
        issue(scene, scene.ent, 1_000, by=other)
    for caller in (w.regulator(), scene.finance, scene.ent):
        with reverts(
            "ProtocolUnauthorizedAccount",
            account=caller.account,
            allowedKinds=int(KindMask.ISSUER),
        ):
            issue(scene, scene.ent, 1_000, by=caller)
    assert totals(scene) == before


@pytest.mark.parametrize("path", ["apply", "issue"])
def test_issuance_window_is_inclusive(scene: Scene, path: str) -> None:
    """Refused a second before issueStart and a second after issueEnd; open at both edges."""
    w = scene.world
    start, end = w.now() + 10 * DAY, w.now() + 20 * DAY
    pid = w.program(scene.issuer, scene.finance, budget=1_000, issue_start=start, issue_end=end)

    def attempt() -> TxReceipt:
        if path == "apply":
            return apply(scene, scene.ent, 100, program=pid)
        return issue(scene, scene.ent, 100, program=pid)

    def refused_at(timestamp: int) -> None:
        before = totals(scene, pid)
        with reverts(
            "ProgramIssuanceClosed",
            programId=pid,
            issueStart=start,
            issueEnd=end,
            timestamp=timestamp,
        ):
            attempt()
        assert totals(scene, pid) == before

    w.tester.time_travel(start - 1)  # the next transaction runs at exactly this time
    refused_at(start - 1)
    w.tester.time_travel(start)
    attempt()
    w.tester.time_travel(end)
    attempt()
    refused_at(end + 1)  # the block after
    done = (view(scene, "applicationCount"), w.vouchers(scene.ent, pid))
    assert done == ((2, 0) if path == "apply" else (0, 200))


def test_an_approval_after_the_window_is_refused(scene: Scene) -> None:
    w = scene.world
    apply(scene, scene.ent, 1_000)
    w.travel(180 * DAY + 1)
    with reverts("ProgramIssuanceClosed", programId=scene.program):
        w.send(w.p.programs.functions.approveApplication(1), scene.issuer)
    assert application(scene, 1)[3] == PENDING


def test_per_enterprise_cap(scene: Scene) -> None:
    w, pid, ent = scene.world, scene.program, scene.ent
    issue(scene, ent, 60_000 * YUAN)
    with reverts(
        "ProgramHolderCapExceeded",
        programId=pid,
        orgId=ent.id,
        requested=40_000 * YUAN + 1,
        remaining=40_000 * YUAN,
    ):
        issue(scene, ent, 40_000 * YUAN + 1)
    with reverts("ProgramHolderCapExceeded", requested=40_000 * YUAN + 1, remaining=40_000 * YUAN):
        apply(scene, ent, 40_000 * YUAN + 1)
    issue(scene, ent, 40_000 * YUAN)  # exactly at the cap
    assert w.vouchers(ent, pid) == CAP
    before = totals(scene)
    with reverts("ProgramHolderCapExceeded", programId=pid, orgId=ent.id, requested=1, remaining=0):
        issue(scene, ent, 1)
    assert totals(scene) == before


def test_cap_counts_value_ever_issued_even_after_revocation(scene: Scene) -> None:
    w = scene.world
    issue(scene, scene.ent, CAP)
    w.send(w.p.programs.functions.revoke(scene.program, scene.ent.id, CAP, 1), scene.issuer)
    with reverts("ProgramHolderCapExceeded", requested=1, remaining=0):
        issue(scene, scene.ent, 1)


def test_cap_is_in_fen_for_fixed_face_value_vouchers(scene: Scene) -> None:
    w = scene.world
    pid = w.program(
        scene.issuer,
        scene.finance,
        budget=100_000 * YUAN,
        face_value=5_000 * YUAN,
        max_units=40,
        per_holder_cap=10_000 * YUAN,
    )
    with reverts(
        "ProgramHolderCapExceeded", programId=pid, requested=15_000 * YUAN, remaining=10_000 * YUAN
    ):
        issue(scene, scene.ent, 3, program=pid)
    issue(scene, scene.ent, 2, program=pid)
    assert w.vouchers(scene.ent, pid) == 2
    assert view(scene, "outstandingValue", pid) == 10_000 * YUAN


def test_outstanding_value_never_exceeds_escrow(scene: Scene) -> None:
    w = scene.world
    pid = w.program(scene.issuer, scene.finance, budget=1_000 * YUAN)
    other = w.enterprise(SHANGHAI)
    issue(scene, scene.ent, 1_000 * YUAN, program=pid)
    with reverts("ProgramInsufficientEscrow", programId=pid, requested=1, available=0):
        issue(scene, other, 1, program=pid)
    w.fund(scene.finance, pid, 500 * YUAN)
    with reverts(
        "ProgramInsufficientEscrow", programId=pid, requested=500 * YUAN + 1, available=500 * YUAN
    ):
        issue(scene, other, 500 * YUAN + 1, program=pid)
    w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 300 * YUAN, 2), scene.issuer)
    issue(scene, other, 800 * YUAN, program=pid)
    assert view(scene, "outstandingValue", pid) == view(scene, "escrowed", pid) == 1_500 * YUAN


def test_an_unfunded_program_issues_nothing(scene: Scene) -> None:
    pid = scene.world.program(scene.issuer, scene.finance, budget=0)
    with reverts("ProgramInsufficientEscrow", programId=pid, requested=1, available=0):
        issue(scene, scene.ent, 1, program=pid)


@pytest.mark.parametrize(
    ("first", "second"),
    [("issue", "issue"), ("issue", "apply"), ("apply", "issue"), ("apply", "apply")],
)
def test_a_request_id_is_used_once(scene: Scene, first: str, second: str) -> None:
    rid = scene.world.request_id()
    ops = {
        "issue": lambda: issue(scene, scene.ent, 1_000, rid=rid),
        "apply": lambda: apply(scene, scene.ent, 1_000, rid=rid),
    }
    ops[first]()
    before = totals(scene)
    with reverts("ProgramDuplicateRequest", requestId=hexid(rid)):
        ops[second]()
    assert totals(scene) == before  # the retry minted nothing and filed nothing


@pytest.mark.parametrize("path", ["apply", "issue"])
def test_a_zero_request_id_is_refused(scene: Scene, path: str) -> None:
    before = totals(scene)
    with reverts("ProgramDuplicateRequest", requestId=hexid(ZERO_ID)):
        if path == "apply":
            apply(scene, scene.ent, 1_000, rid=ZERO_ID)
        else:
            issue(scene, scene.ent, 1_000, rid=ZERO_ID)
    assert totals(scene) == before


@pytest.mark.parametrize(
    ("action", "status"), [("freeze", OrgStatus.FROZEN), ("suspend", OrgStatus.SUSPENDED)]
)
def test_inactive_enterprises_get_no_vouchers(scene: Scene, action: str, status: OrgStatus) -> None:
    w = scene.world
    apply(scene, scene.ent, 1_000)
    authority = w.regulator() if action == "freeze" else w.governor
    w.send(getattr(w.p.registry.functions, action)(scene.ent.id, 5), authority)
    before = totals(scene)
    with reverts("ProtocolOrgNotActive", orgId=scene.ent.id, status=int(status)):
        issue(scene, scene.ent, 1_000)
    with reverts("ProtocolOrgNotActive", orgId=scene.ent.id, status=int(status)):
        w.send(w.p.programs.functions.approveApplication(1), scene.issuer)
    with reverts("ProtocolOrgNotActive", orgId=scene.ent.id, status=int(status)):
        apply(scene, scene.ent, 1_000)
    assert totals(scene) == before


def test_zero_units_and_unknown_programs(scene: Scene) -> None:
    with reverts("ProtocolZeroAmount"):
        issue(scene, scene.ent, 0)
    with reverts("ProtocolZeroAmount"):
        apply(scene, scene.ent, 0)
    with reverts("ProgramUnknown", programId=77):
        issue(scene, scene.ent, 1, program=77)


def test_reward_programs_take_no_applications(scene: Scene) -> None:
    w = scene.world
    pid = w.program(
        scene.issuer, scene.finance, budget=1_000 * YUAN, kind=ProgramKind.REWARD, share_bps=1_000
    )
    with reverts("ProgramWrongKind", programId=pid, kind=int(ProgramKind.REWARD)):
        apply(scene, scene.ent, 100, program=pid)
    with reverts("ProgramWrongKind", programId=pid, kind=int(ProgramKind.REWARD)):
        issue(scene, scene.ent, 100, program=pid)
    assert view(scene, "holders", pid) == []


# -- revocation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["issuer", "regulator"])
def test_issuer_or_regulator_revokes_with_a_reason(scene: Scene, by: str) -> None:
    w, pid = scene.world, scene.program
    issue(scene, scene.ent, 10_000 * YUAN)
    revoker = scene.issuer if by == "issuer" else w.regulator()
    receipt = w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 4_000 * YUAN, 17), revoker)
    assert w.event(receipt, w.p.programs, "VouchersRevoked") == {
        "programId": pid,
        "enterpriseOrg": scene.ent.id,
        "byOrg": revoker.id,
        "units": 4_000 * YUAN,
        "reasonCode": 17,
    }
    assert w.vouchers(scene.ent, pid) == 6_000 * YUAN
    assert w.state(pid)[9] == 4_000 * YUAN  # revokedUnits
    assert view(scene, "outstandingUnits", pid) == 6_000 * YUAN


def test_others_cannot_revoke(scene: Scene) -> None:
    w, pid = scene.world, scene.program
    issue(scene, scene.ent, 10_000 * YUAN)
    before = totals(scene)
    other = w.issuer(ZHEJIANG)
    with reverts("ProgramNotIssuer", programId=pid, orgId=other.id):
        w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 1, 0), other)
    for caller in (scene.finance, scene.ent, w.institution(SHANGHAI)):
        with reverts(
            "ProtocolUnauthorizedAccount",
            account=caller.account,
            allowedKinds=int(KindMask.ISSUER | KindMask.REGULATOR),
        ):
            w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 1, 0), caller)
    assert totals(scene) == before


def test_cannot_revoke_more_than_held_or_nothing(scene: Scene) -> None:
    w, pid = scene.world, scene.program
    issue(scene, scene.ent, 1_000)
    before = totals(scene)
    with reverts(
        "ERC1155InsufficientBalance",
        sender=scene.ent.vault,
        balance=1_000,
        needed=1_001,
        tokenId=pid,
    ):
        w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 1_001, 0), scene.issuer)
    with reverts("ProtocolZeroAmount"):
        w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 0, 0), scene.issuer)
    assert totals(scene) == before


def test_vouchers_locked_in_an_order_cannot_be_revoked(scene: Scene) -> None:
    w, pid = scene.world, scene.program
    inst = w.institution(SHANGHAI)
    service = w.list_service(inst, price=10_000 * YUAN)
    issue(scene, scene.ent, 6_000 * YUAN)
    w.deposit(scene.ent, 5_000 * YUAN)
    w.place(scene.ent, service, pid, 5_000 * YUAN, 5_000 * YUAN)
    before = totals(scene)
    with reverts(
        "ERC1155InsufficientBalance",
        sender=scene.ent.vault,
        balance=1_000 * YUAN,
        needed=5_000 * YUAN,
        tokenId=pid,
    ):
        w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 5_000 * YUAN, 0), scene.issuer)
    assert totals(scene) == before
    assert w.vouchers(w.p.orders.address, pid) == 5_000 * YUAN
    w.send(w.p.programs.functions.revoke(pid, scene.ent.id, 1_000 * YUAN, 0), scene.issuer)
    assert w.vouchers(scene.ent, pid) == 0
    assert w.vouchers(w.p.orders.address, pid) == 5_000 * YUAN

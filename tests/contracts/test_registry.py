"""ParticipantRegistry: who may register whom, organisation status, the pause switch and views.

Accounts (add, remove, rotate, recover) are in ``test_registry_accounts.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from eth_abi.abi import encode
from web3 import Web3
from web3.contract.contract import ContractFunction

from tests.world import (
    BEIJING,
    BEIJING_HAIDIAN,
    CHANGXING,
    HANGZHOU,
    HUZHOU,
    SHANGHAI,
    SHANGHAI_PUDONG,
    ZHEJIANG,
    Org,
    World,
    reverts,
)
from voucher_chain.contracts import KindMask, OrgKind, OrgStatus, call

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
REGISTRARS = int(KindMask.GOVERNOR | KindMask.ISSUER)
SUPERVISORS = int(KindMask.REGULATOR | KindMask.GOVERNOR)
_codes = itertools.count(1)


class Address(str):
    """An address that equals any spelling of itself: reverts decode addresses in lower case."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __hash__(self) -> int:
        return hash(self.lower())


def credit_code() -> bytes:
    return bytes(Web3.keccak(text=f"registry-test-code-{next(_codes)}"))


def registration(
    world: World,
    kind: int,
    region: int,
    *,
    code: bytes | None = None,
    employees: int = 10,
    account: str | None = None,
) -> ContractFunction:
    return world.p.registry.functions.registerOrganisation(
        kind,
        region,
        credit_code() if code is None else code,
        employees,
        6510,
        ZERO32,
        world.new_account() if account is None else account,
    )


def count(world: World) -> int:
    return int(call(world.p.registry.functions.organisationCount()))


def record(world: World, org_id: int) -> Any:
    return call(world.p.registry.functions.organisation(org_id))


def status(world: World, org: Org) -> int:
    return int(record(world, org.id)[1])


def active(world: World, account: str) -> bool:
    return bool(call(world.p.registry.functions.isActiveAccount(account)))


# -- registration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in OrgKind if OrgKind.NONE < k < OrgKind.GOVERNOR])
def test_governor_registers_every_registrable_kind(world: World, kind: OrgKind) -> None:
    reg = world.p.registry
    code, account = credit_code(), world.new_account()
    receipt = world.send(
        registration(world, kind, SHANGHAI_PUDONG, code=code, account=account), world.governor
    )
    vault = call(reg.functions.vaultOf(2))
    assert world.event(receipt, reg, "OrganisationRegistered") == {
        "orgId": 2,
        "kind": kind,
        "region": SHANGHAI_PUDONG,
        "creditCodeHash": code,
        "account": account,
        "vault": vault,
        "registrar": 1,
    }
    assert world.event(receipt, reg, "AccountAdded") == {"orgId": 2, "account": account, "byOrg": 1}
    assert record(world, 2) == (kind, OrgStatus.ACTIVE, SHANGHAI_PUDONG, 10, 6510, 1, code, ZERO32)
    assert count(world) == 2
    assert call(reg.functions.orgOf(account)) == [2, True]
    assert call(reg.functions.accountsOf(2)) == [account]
    assert call(reg.functions.orgOfVault(vault)) == 2
    assert call(reg.functions.holderOf(account)) == vault
    assert call(reg.functions.vaultKind(vault)) == [kind, OrgStatus.ACTIVE]
    assert active(world, account)


@pytest.mark.parametrize(
    ("issuer_region", "kind", "region"),
    [
        (SHANGHAI, OrgKind.ENTERPRISE, SHANGHAI_PUDONG),
        (SHANGHAI, OrgKind.STARTUP_TEAM, SHANGHAI_PUDONG),
        (SHANGHAI, OrgKind.INSTITUTION, SHANGHAI),
        (HUZHOU, OrgKind.ENTERPRISE, CHANGXING),
        (CHANGXING, OrgKind.INSTITUTION, CHANGXING),
    ],
)
def test_issuer_registers_holders_and_institutions_in_its_region(
    world: World, issuer_region: int, kind: OrgKind, region: int
) -> None:
    issuer = world.issuer(issuer_region)
    org = world.register(kind, region, registrar=issuer)
    assert record(world, org.id)[0] == kind
    assert record(world, org.id)[5] == issuer.id  # registrar
    assert active(world, org.account)


@pytest.mark.parametrize(
    ("issuer_region", "region"),
    [
        (SHANGHAI, BEIJING_HAIDIAN),
        (HUZHOU, HANGZHOU),
        (CHANGXING, 330523),
        (ZHEJIANG, SHANGHAI_PUDONG),
    ],
)
def test_issuer_cannot_register_outside_its_region(
    world: World, issuer_region: int, region: int
) -> None:
    issuer = world.issuer(issuer_region)
    before = count(world)
    with reverts("RegistryRegionOutsideJurisdiction", region=region, issuerRegion=issuer_region):
        world.send(registration(world, OrgKind.ENTERPRISE, region), issuer)
    assert count(world) == before


@pytest.mark.parametrize(
    ("by_issuer", "kind"),
    [
        (False, 0),  # OrgKind.None: an individual has no kind
        (False, int(OrgKind.GOVERNOR)),  # no second governor
        (False, 9),
        (False, 255),
        (True, 0),
        (True, int(OrgKind.ISSUER)),
        (True, int(OrgKind.FINANCE)),
        (True, int(OrgKind.REGULATOR)),
        (True, int(OrgKind.BANK)),
        (True, int(OrgKind.GOVERNOR)),
        (True, 9),
    ],
)
def test_unregistrable_kinds(world: World, by_issuer: bool, kind: int) -> None:
    caller = world.issuer(SHANGHAI) if by_issuer else world.governor
    before = count(world)
    with reverts("RegistryInvalidKind", kind=kind):
        world.send(registration(world, kind, SHANGHAI_PUDONG), caller)
    assert count(world) == before


@pytest.mark.parametrize("by_issuer", [False, True])
@pytest.mark.parametrize("region", [0, 99_999, 109_999, 1_000_000])
def test_invalid_region(world: World, by_issuer: bool, region: int) -> None:
    caller = world.issuer(SHANGHAI) if by_issuer else world.governor
    before = count(world)
    with reverts("RegistryInvalidRegion", region=region):
        world.send(registration(world, OrgKind.ENTERPRISE, region), caller)
    assert count(world) == before


def test_credit_code_is_required_and_unique(world: World) -> None:
    before = count(world)
    with reverts("RegistryMissingCreditCode"):
        world.send(registration(world, OrgKind.ENTERPRISE, SHANGHAI, code=ZERO32), world.governor)
    code = credit_code()
    world.send(registration(world, OrgKind.ENTERPRISE, SHANGHAI, code=code), world.governor)
    with reverts("RegistryDuplicateCreditCode", creditCodeHash="0x" + code.hex(), existingOrgId=2):
        world.send(registration(world, OrgKind.INSTITUTION, BEIJING, code=code), world.governor)
    governor_code = bytes(Web3.keccak(text="MOST-GOVERNOR"))
    with reverts("RegistryDuplicateCreditCode", existingOrgId=1):
        world.send(registration(world, OrgKind.BANK, BEIJING, code=governor_code), world.governor)
    assert count(world) == before + 1


@pytest.mark.parametrize("kind", [OrgKind.ENTERPRISE, OrgKind.STARTUP_TEAM])
def test_voucher_holders_need_employees(world: World, kind: OrgKind) -> None:
    before = count(world)
    with reverts("RegistryInvalidEmployees", employees=0):
        world.send(registration(world, kind, SHANGHAI, employees=0), world.governor)
    assert count(world) == before


@pytest.mark.parametrize("kind", [OrgKind.INSTITUTION, OrgKind.ISSUER, OrgKind.BANK])
def test_other_kinds_may_declare_no_employees(world: World, kind: OrgKind) -> None:
    org = world.register(kind, SHANGHAI, employees=0)
    assert record(world, org.id)[3] == 0


def test_account_must_be_new(world: World) -> None:
    ent = world.enterprise(SHANGHAI)
    before = count(world)
    with reverts("RegistryZeroAccount"):
        world.send(registration(world, 1, SHANGHAI, account=ZERO_ADDRESS), world.governor)
    for account, owner in [(ent.account, ent.id), (world.governor.account, 1)]:
        with reverts("RegistryAccountAlreadyRegistered", account=Address(account), orgId=owner):
            world.send(registration(world, 1, SHANGHAI, account=account), world.governor)
    # An account removed from its organisation can never be registered again.
    spare = world.new_account()
    world.send(world.p.registry.functions.addAccount(ent.id, spare), ent)
    world.send(world.p.registry.functions.removeAccount(spare), ent)
    with reverts("RegistryAccountAlreadyRegistered", account=Address(spare), orgId=ent.id):
        world.send(registration(world, 1, SHANGHAI, account=spare), world.governor)
    assert count(world) == before


@pytest.mark.parametrize(
    "kind",
    [
        OrgKind.ENTERPRISE,
        OrgKind.STARTUP_TEAM,
        OrgKind.INSTITUTION,
        OrgKind.FINANCE,
        OrgKind.REGULATOR,
        OrgKind.BANK,
        OrgKind.NONE,  # an unregistered address
    ],
)
def test_only_governor_and_issuers_register(world: World, kind: OrgKind) -> None:
    caller = world.new_account() if kind == OrgKind.NONE else world.register(kind, SHANGHAI).account
    before = count(world)
    with reverts("ProtocolUnauthorizedAccount", account=Address(caller), allowedKinds=REGISTRARS):
        world.send(registration(world, OrgKind.ENTERPRISE, SHANGHAI_PUDONG), caller)
    assert count(world) == before


# -- profile --------------------------------------------------------------------------------------


def test_update_profile(world: World) -> None:
    issuer, other = world.issuer(SHANGHAI), world.issuer(SHANGHAI)
    ent = world.register(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, registrar=issuer)
    group = bytes(Web3.keccak(text="group"))
    receipt = world.send(world.p.registry.functions.updateProfile(ent.id, 55, 7310, group), issuer)
    assert world.event(receipt, world.p.registry, "OrganisationProfileUpdated") == {
        "orgId": ent.id,
        "employees": 55,
        "industry": 7310,
        "affiliation": group,
    }
    assert record(world, ent.id)[3:5] == (55, 7310) and record(world, ent.id)[7] == group
    with reverts("RegistryInvalidEmployees", employees=0):
        world.send(world.p.registry.functions.updateProfile(ent.id, 0, 1, ZERO32), world.governor)
    with reverts("RegistryNotRegistrar", account=Address(other.account), orgId=ent.id):
        world.send(world.p.registry.functions.updateProfile(ent.id, 1, 1, ZERO32), other)
    assert record(world, ent.id)[3] == 55


# -- status ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("by_governor", [False, True])
def test_suspend_and_reinstate(world: World, by_governor: bool) -> None:
    reg = world.p.registry
    issuer = world.issuer(SHANGHAI)
    ent = world.register(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, registrar=issuer)
    by = world.governor if by_governor else issuer
    receipt = world.send(reg.functions.suspend(ent.id, 42), by)
    assert world.event(receipt, reg, "OrganisationStatusChanged") == {
        "orgId": ent.id,
        "status": OrgStatus.SUSPENDED,
        "reasonCode": 42,
        "byOrg": by.id,
    }
    assert status(world, ent) == OrgStatus.SUSPENDED and not active(world, ent.account)
    receipt = world.send(reg.functions.reinstate(ent.id), by)
    assert world.event(receipt, reg, "OrganisationStatusChanged")["status"] == OrgStatus.ACTIVE
    assert status(world, ent) == OrgStatus.ACTIVE and active(world, ent.account)


def test_suspend_and_reinstate_rejected(world: World) -> None:
    reg = world.p.registry
    issuer, other_issuer = world.issuer(SHANGHAI), world.issuer(SHANGHAI)
    ent = world.register(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, registrar=issuer)
    by_governor = world.enterprise(SHANGHAI)  # registered by the governor, not by `issuer`
    with reverts("RegistryNotRegistrar", account=Address(other_issuer.account), orgId=ent.id):
        world.send(reg.functions.suspend(ent.id, 1), other_issuer)
    with reverts("RegistryNotRegistrar", account=Address(issuer.account), orgId=by_governor.id):
        world.send(reg.functions.suspend(by_governor.id, 1), issuer)
    for caller in (by_governor, world.regulator(), world.finance(SHANGHAI)):
        with reverts(
            "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=REGISTRARS
        ):
            world.send(reg.functions.suspend(ent.id, 1), caller)
    with reverts("RegistryUnknownOrganisation", orgId=99):
        world.send(reg.functions.suspend(99, 1), world.governor)
    with reverts("RegistryInvalidStatusChange", orgId=ent.id, **{"from": 1, "to": 1}):
        world.send(reg.functions.reinstate(ent.id), issuer)
    assert status(world, ent) == OrgStatus.ACTIVE
    world.send(reg.functions.suspend(ent.id, 1), issuer)
    with reverts("RegistryInvalidStatusChange", orgId=ent.id, **{"from": 2, "to": 2}):
        world.send(reg.functions.suspend(ent.id, 1), issuer)
    with reverts("RegistryNotRegistrar", account=Address(other_issuer.account), orgId=ent.id):
        world.send(reg.functions.reinstate(ent.id), other_issuer)
    world.send(reg.functions.freeze(ent.id, 7), world.governor)
    with reverts("RegistryInvalidStatusChange", orgId=ent.id, **{"from": 3, "to": 1}):
        world.send(reg.functions.reinstate(ent.id), issuer)  # a freeze is lifted only by unfreeze
    assert status(world, ent) == OrgStatus.FROZEN


def test_governor_cannot_be_suspended(world: World) -> None:
    # Suspending the governor would leave nobody able to reinstate it (freeze refuses it too).
    with reverts("RegistryInvalidStatusChange", orgId=1, **{"from": 1, "to": 2}):
        world.send(world.p.registry.functions.suspend(1, 1), world.governor)
    assert status(world, world.governor) == OrgStatus.ACTIVE


@pytest.mark.parametrize("by_governor", [False, True])
def test_freeze_and_unfreeze(world: World, by_governor: bool) -> None:
    reg = world.p.registry
    by = world.governor if by_governor else world.regulator()
    ent = world.enterprise(SHANGHAI)
    receipt = world.send(reg.functions.freeze(ent.id, 9), by)
    assert world.event(receipt, reg, "OrganisationStatusChanged") == {
        "orgId": ent.id,
        "status": OrgStatus.FROZEN,
        "reasonCode": 9,
        "byOrg": by.id,
    }
    assert status(world, ent) == OrgStatus.FROZEN and not active(world, ent.account)
    receipt = world.send(reg.functions.unfreeze(ent.id), by)
    assert world.event(receipt, reg, "OrganisationStatusChanged")["status"] == OrgStatus.ACTIVE
    assert status(world, ent) == OrgStatus.ACTIVE and active(world, ent.account)


def test_freeze_and_unfreeze_work_while_paused(world: World) -> None:
    reg = world.p.registry
    regulator, ent = world.regulator(), world.enterprise(SHANGHAI)
    world.send(reg.functions.pause(), world.governor)
    world.send(reg.functions.freeze(ent.id, 1), regulator)
    assert status(world, ent) == OrgStatus.FROZEN
    world.send(reg.functions.unfreeze(ent.id), regulator)
    assert status(world, ent) == OrgStatus.ACTIVE


def test_freeze_a_suspended_org_then_unfreeze(world: World) -> None:
    reg = world.p.registry
    ent = world.enterprise(SHANGHAI)
    world.send(reg.functions.suspend(ent.id, 1), world.governor)
    world.send(reg.functions.freeze(ent.id, 2), world.regulator())
    assert status(world, ent) == OrgStatus.FROZEN
    world.send(reg.functions.unfreeze(ent.id), world.governor)
    assert status(world, ent) == OrgStatus.ACTIVE


def test_freeze_and_unfreeze_rejected(world: World) -> None:
    reg = world.p.registry
    regulator, ent = world.regulator(), world.enterprise(SHANGHAI)
    for caller in (world.issuer(SHANGHAI), ent, world.bank()):
        with reverts(
            "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=SUPERVISORS
        ):
            world.send(reg.functions.freeze(ent.id, 1), caller)
    with reverts("RegistryUnknownOrganisation", orgId=99):
        world.send(reg.functions.freeze(99, 1), regulator)
    with reverts("RegistryInvalidStatusChange", orgId=1, **{"from": 1, "to": 3}):
        world.send(reg.functions.freeze(1, 1), regulator)
    with reverts("RegistryInvalidStatusChange", orgId=ent.id, **{"from": 1, "to": 1}):
        world.send(reg.functions.unfreeze(ent.id), regulator)
    world.send(reg.functions.freeze(ent.id, 1), regulator)
    with reverts("RegistryInvalidStatusChange", orgId=ent.id, **{"from": 3, "to": 3}):
        world.send(reg.functions.freeze(ent.id, 1), regulator)
    with reverts(
        "ProtocolUnauthorizedAccount", account=Address(ent.account), allowedKinds=SUPERVISORS
    ):
        world.send(reg.functions.unfreeze(ent.id), ent)
    assert status(world, ent) == OrgStatus.FROZEN


@pytest.mark.parametrize("how", ["suspend", "freeze"])
def test_inactive_org_cannot_act(world: World, how: str) -> None:
    reg = world.p.registry
    issuer = world.issuer(SHANGHAI)
    second = world.new_account()
    world.send(reg.functions.addAccount(issuer.id, second), issuer)
    world.send(getattr(reg.functions, how)(issuer.id, 3), world.governor)
    expected = OrgStatus.SUSPENDED if how == "suspend" else OrgStatus.FROZEN
    assert not active(world, issuer.account) and not active(world, second)
    before = count(world)
    for account in (issuer.account, second):
        with reverts("ProtocolOrgNotActive", orgId=issuer.id, status=expected):
            world.send(registration(world, OrgKind.ENTERPRISE, SHANGHAI_PUDONG), account)
        with reverts("ProtocolOrgNotActive", orgId=issuer.id, status=expected):
            world.send(reg.functions.addAccount(issuer.id, world.new_account()), account)
    assert count(world) == before
    assert call(reg.functions.accountsOf(issuer.id)) == [issuer.account, second]


# -- pause ----------------------------------------------------------------------------------------


def test_pause_and_unpause_by_governor(world: World) -> None:
    reg = world.p.registry
    receipt = world.send(reg.functions.pause(), world.governor)
    assert world.event(receipt, reg, "Paused") == {"account": world.governor.account}
    assert call(reg.functions.paused()) is True
    with reverts("ProtocolPaused"):
        world.send(reg.functions.pause(), world.governor)
    receipt = world.send(reg.functions.unpause(), world.governor)
    assert world.event(receipt, reg, "Unpaused") == {"account": world.governor.account}
    assert call(reg.functions.paused()) is False
    with reverts("ExpectedPause"):
        world.send(reg.functions.unpause(), world.governor)


@pytest.mark.parametrize("kind", [OrgKind.ISSUER, OrgKind.REGULATOR, OrgKind.BANK, OrgKind.FINANCE])
def test_only_governor_pauses(world: World, kind: OrgKind) -> None:
    reg = world.p.registry
    caller = world.register(kind, BEIJING)
    mask = int(KindMask.GOVERNOR)
    with reverts("ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=mask):
        world.send(reg.functions.pause(), caller)
    assert call(reg.functions.paused()) is False
    world.send(reg.functions.pause(), world.governor)
    with reverts("ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=mask):
        world.send(reg.functions.unpause(), caller)
    assert call(reg.functions.paused()) is True


@pytest.mark.parametrize(
    "operation",
    ["register", "updateProfile", "suspend", "reinstate", "addAccount", "removeAccount", "rotate"],
)
def test_paused_registry_refuses_changes(world: World, operation: str) -> None:
    reg = world.p.registry
    ent = world.enterprise(SHANGHAI)
    spare = world.new_account()
    world.send(reg.functions.addAccount(ent.id, spare), ent)
    world.send(reg.functions.suspend(ent.id, 1), world.governor)
    suspended = world.enterprise(SHANGHAI)
    world.send(reg.functions.suspend(suspended.id, 1), world.governor)
    world.send(reg.functions.pause(), world.governor)
    fn, sender = {
        "register": (registration(world, OrgKind.ENTERPRISE, SHANGHAI), world.governor.account),
        "updateProfile": (
            reg.functions.updateProfile(ent.id, 5, 1, ZERO32),
            world.governor.account,
        ),
        "suspend": (reg.functions.suspend(ent.id, 1), world.governor.account),
        "reinstate": (reg.functions.reinstate(suspended.id), world.governor.account),
        "addAccount": (
            reg.functions.addAccount(ent.id, world.new_account()),
            world.governor.account,
        ),
        "removeAccount": (reg.functions.removeAccount(spare), world.governor.account),
        "rotate": (reg.functions.rotateAccount(world.new_account()), ent.account),
    }[operation]
    before = (count(world), call(reg.functions.accountsOf(ent.id)), record(world, ent.id))
    with reverts("ProtocolPaused"):
        world.send(fn, sender)
    assert (count(world), call(reg.functions.accountsOf(ent.id)), record(world, ent.id)) == before


# -- views ----------------------------------------------------------------------------------------


def test_views_of_a_fresh_deployment(world: World) -> None:
    reg = world.p.registry
    gov = world.governor
    assert count(world) == 1
    code = bytes(Web3.keccak(text="MOST-GOVERNOR"))
    assert record(world, 1) == (OrgKind.GOVERNOR, OrgStatus.ACTIVE, BEIJING, 0, 0, 0, code, ZERO32)
    assert call(reg.functions.accountsOf(1)) == [gov.account]
    assert call(reg.functions.orgOf(gov.account)) == [1, True]
    assert active(world, gov.account)
    for org_id in (1, 2, 2**64 - 1):
        digest = Web3.keccak(encode(["string", "uint64"], ["VoucherChain.vault", org_id]))
        assert call(reg.functions.vaultOf(org_id)) == Web3.to_checksum_address(digest[-20:])
    assert call(reg.functions.orgOfVault(gov.vault)) == 1
    assert call(reg.functions.holderOf(gov.account)) == gov.vault
    # An unknown address: no organisation, not a vault, holds for itself.
    stranger = world.new_account()
    assert call(reg.functions.orgOf(stranger)) == [0, False]
    assert call(reg.functions.holderOf(stranger)) == stranger
    assert call(reg.functions.orgOfVault(stranger)) == 0
    assert call(reg.functions.vaultKind(stranger)) == [OrgKind.NONE, OrgStatus.NONE]
    assert call(reg.functions.vaultOf(2)) != ZERO_ADDRESS
    assert call(reg.functions.orgOfVault(call(reg.functions.vaultOf(2)))) == 0  # not yet registered
    assert not active(world, stranger)
    assert call(reg.functions.accountsOf(2)) == []
    for org_id in (0, 2):
        with reverts("RegistryUnknownOrganisation", orgId=org_id):
            call(reg.functions.organisation(org_id))


def test_require_actor_view(world: World) -> None:
    reg = world.p.registry
    ent = world.enterprise(SHANGHAI)
    org_id, org = call(reg.functions.requireActor(ent.account, int(KindMask.VOUCHER_HOLDERS)))
    assert org_id == ent.id and org[0] == OrgKind.ENTERPRISE
    mask = int(KindMask.BANK)
    with reverts("ProtocolUnauthorizedAccount", account=Address(ent.account), allowedKinds=mask):
        call(reg.functions.requireActor(ent.account, mask))

"""ParticipantRegistry accounts: keys act for an organisation, holdings stay at its vault.

Adding, removing, rotating and recovering accounts; a removed address can never come back.
"""

from __future__ import annotations

import pytest
from web3.contract.contract import ContractFunction

from tests.world import SHANGHAI, YUAN, Org, World, reverts
from voucher_chain.contracts import Category, KindMask, OrgKind, call

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
GOVERNOR = int(KindMask.GOVERNOR)


class Address(str):
    """An address that equals any spelling of itself: reverts decode addresses in lower case."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __hash__(self) -> int:
        return hash(self.lower())


def accounts(world: World, org: Org) -> list[str]:
    return list(call(world.p.registry.functions.accountsOf(org.id)))


def org_of(world: World, account: str) -> tuple[int, bool]:
    org_id, is_active = call(world.p.registry.functions.orgOf(account))
    return int(org_id), bool(is_active)


def active(world: World, account: str) -> bool:
    return bool(call(world.p.registry.functions.isActiveAccount(account)))


def with_spare(world: World, org: Org) -> str:
    """Adds a second account to ``org`` (by itself) and returns it."""
    spare = world.new_account()
    world.send(world.p.registry.functions.addAccount(org.id, spare), org)
    return spare


# -- add ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by_governor", [False, True])
def test_add_account(world: World, by_governor: bool) -> None:
    reg = world.p.registry
    ent = world.enterprise(SHANGHAI)
    world.deposit(ent, 7 * YUAN)
    new = world.new_account()
    by = world.governor if by_governor else ent
    receipt = world.send(reg.functions.addAccount(ent.id, new), by)
    assert world.event(receipt, reg, "AccountAdded") == {
        "orgId": ent.id,
        "account": new,
        "byOrg": by.id,
    }
    assert accounts(world, ent) == [ent.account, new]
    assert org_of(world, new) == (ent.id, True) and active(world, new)
    assert call(reg.functions.holderOf(new)) == ent.vault
    assert world.balance(new) == world.balance(ent) == 7 * YUAN
    # The new key acts for the organisation like the first one.
    third = world.new_account()
    world.send(reg.functions.addAccount(ent.id, third), new)
    assert accounts(world, ent) == [ent.account, new, third]


def test_add_account_rejected(world: World) -> None:
    reg = world.p.registry
    issuer = world.issuer(SHANGHAI)
    ent = world.register(OrgKind.ENTERPRISE, SHANGHAI, registrar=issuer)
    other = world.enterprise(SHANGHAI)
    stranger = world.new_account()
    for caller in (other.account, issuer.account, stranger):  # only itself or the governor
        with reverts("ProtocolUnauthorizedAccount", account=Address(caller), allowedKinds=GOVERNOR):
            world.send(reg.functions.addAccount(ent.id, world.new_account()), caller)
    with reverts("RegistryUnknownOrganisation", orgId=99):
        world.send(reg.functions.addAccount(99, world.new_account()), world.governor)
    with reverts("RegistryZeroAccount"):
        world.send(reg.functions.addAccount(ent.id, ZERO_ADDRESS), ent)
    for taken, owner in [(other.account, other.id), (ent.account, ent.id), (issuer.account, 2)]:
        with reverts("RegistryAccountAlreadyRegistered", account=Address(taken), orgId=owner):
            world.send(reg.functions.addAccount(ent.id, taken), world.governor)
    assert accounts(world, ent) == [ent.account]


# -- remove ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("remover", ["other key", "same key", "governor"])
def test_remove_account(world: World, remover: str) -> None:
    reg = world.p.registry
    ent = world.enterprise(SHANGHAI)
    spare = with_spare(world, ent)
    by = {"other key": ent.account, "same key": spare, "governor": world.governor.account}[remover]
    by_org = 1 if remover == "governor" else ent.id
    receipt = world.send(reg.functions.removeAccount(spare), by)
    assert world.event(receipt, reg, "AccountRemoved") == {
        "orgId": ent.id,
        "account": spare,
        "byOrg": by_org,
    }
    assert accounts(world, ent) == [ent.account]
    assert org_of(world, spare) == (ent.id, False) and not active(world, spare)
    # The removed key no longer acts for the organisation ...
    with reverts("ProtocolUnauthorizedAccount", account=Address(spare), allowedKinds=GOVERNOR):
        world.send(reg.functions.addAccount(ent.id, world.new_account()), spare)
    # ... and can never be added again, to it or to anyone.
    for org in (ent, world.enterprise(SHANGHAI)):
        with reverts("RegistryAccountAlreadyRegistered", account=Address(spare), orgId=ent.id):
            world.send(reg.functions.addAccount(org.id, spare), world.governor)
    assert accounts(world, ent) == [ent.account]


def test_remove_account_rejected(world: World) -> None:
    reg = world.p.registry
    issuer = world.issuer(SHANGHAI)
    ent = world.register(OrgKind.ENTERPRISE, SHANGHAI, registrar=issuer)
    for by in (ent, world.governor):
        with reverts("RegistryLastAccount", orgId=ent.id, account=Address(ent.account)):
            world.send(reg.functions.removeAccount(ent.account), by)
    gov = world.governor.account
    with reverts("RegistryLastAccount", orgId=1, account=Address(gov)):
        world.send(reg.functions.removeAccount(gov), gov)
    spare = with_spare(world, ent)
    other = world.enterprise(SHANGHAI)
    for caller in (other.account, issuer.account):
        with reverts("ProtocolUnauthorizedAccount", account=Address(caller), allowedKinds=GOVERNOR):
            world.send(reg.functions.removeAccount(spare), caller)
    stranger = world.new_account()
    with reverts("RegistryUnknownAccount", account=Address(stranger)):
        world.send(reg.functions.removeAccount(stranger), world.governor)
    world.send(reg.functions.removeAccount(spare), ent)
    with reverts("RegistryUnknownAccount", account=Address(spare)):
        world.send(reg.functions.removeAccount(spare), world.governor)
    assert accounts(world, ent) == [ent.account]


# -- rotate and recover ---------------------------------------------------------------------------


def _enterprise_with_holdings(world: World) -> tuple[Org, Org, int, int]:
    """An enterprise holding ¥3,000 and ¥2,000 of vouchers, an institution, a program, a service."""
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program_id = world.program(issuer, finance, budget=10_000 * YUAN)
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(ent, 3_000 * YUAN)
    world.issue(issuer, program_id, ent, 2_000 * YUAN)
    service_id = world.list_service(inst, Category.TESTING, 2_000 * YUAN)
    return ent, inst, program_id, service_id


def test_rotate_account_moves_the_key_not_the_holdings(world: World) -> None:
    reg = world.p.registry
    ent, inst, program_id, service_id = _enterprise_with_holdings(world)
    new = world.new_account()
    receipt = world.send(reg.functions.rotateAccount(new), ent)
    added = world.event(receipt, reg, "AccountAdded")
    removed = world.event(receipt, reg, "AccountRemoved")
    assert added == {"orgId": ent.id, "account": new, "byOrg": ent.id}
    assert removed == {"orgId": ent.id, "account": ent.account, "byOrg": ent.id}
    assert accounts(world, ent) == [new]
    assert org_of(world, new) == (ent.id, True) and active(world, new)
    assert org_of(world, ent.account) == (ent.id, False) and not active(world, ent.account)
    # Holdings never moved: they sit at the vault, read the same through the new key.
    assert world.balance(new) == world.balance(ent.vault) == 3_000 * YUAN
    assert world.vouchers(new, program_id) == world.vouchers(ent.vault, program_id) == 2_000 * YUAN
    # The old key has lost access ...
    holders = int(KindMask.VOUCHER_HOLDERS)
    with reverts("ProtocolUnauthorizedAccount", account=Address(ent.account), allowedKinds=holders):
        world.place(ent, service_id, program_id, 1_000 * YUAN, 1_000 * YUAN)
    with reverts("RegistryUnknownAccount", account=Address(ent.account)):
        world.send(reg.functions.rotateAccount(world.new_account()), ent)
    # ... and the new key spends the organisation's vouchers and money.
    rotated = Org(id=ent.id, kind=ent.kind, region=ent.region, account=new, vault=ent.vault)
    world.place(rotated, service_id, program_id, 1_000 * YUAN, 1_000 * YUAN)
    assert world.vouchers(new, program_id) == 1_000 * YUAN
    assert world.balance(new) == 2_000 * YUAN
    world.send(world.p.settlement.functions.transfer(inst.account, 500 * YUAN), new)
    assert world.balance(new) == 1_500 * YUAN


@pytest.mark.parametrize("how", ["rotate", "recover"])
def test_replaced_key_cannot_move_the_organisations_money(world: World, how: str) -> None:
    reg = world.p.registry
    ent, other = world.enterprise(SHANGHAI), world.enterprise(SHANGHAI)
    world.deposit(ent, 1_000 * YUAN)
    new = world.new_account()
    if how == "rotate":
        world.send(reg.functions.rotateAccount(new), ent)
    else:
        world.send(reg.functions.recoverAccount(ent.account, new), world.governor)
    # A replaced key may be a lost or stolen one: it must not pay from the vault any more.
    with reverts("ProtocolUnauthorizedAccount", account=Address(ent.account)):
        world.send(world.p.settlement.functions.transfer(other.account, 100 * YUAN), ent)
    assert world.balance(new) == 1_000 * YUAN and world.balance(other) == 0


def test_rotate_account_rejected(world: World) -> None:
    reg = world.p.registry
    ent, other = world.enterprise(SHANGHAI), world.enterprise(SHANGHAI)
    spare = with_spare(world, ent)
    with reverts("RegistryZeroAccount"):
        world.send(reg.functions.rotateAccount(ZERO_ADDRESS), ent)
    for taken, owner in [(spare, ent.id), (ent.account, ent.id), (other.account, other.id)]:
        with reverts("RegistryAccountAlreadyRegistered", account=Address(taken), orgId=owner):
            world.send(reg.functions.rotateAccount(taken), ent)
    stranger = world.new_account()
    with reverts("RegistryUnknownAccount", account=Address(stranger)):
        world.send(reg.functions.rotateAccount(world.new_account()), stranger)
    assert accounts(world, ent) == [ent.account, spare]


@pytest.mark.parametrize("how", ["suspend", "freeze"])
def test_inactive_org_cannot_rotate(world: World, how: str) -> None:
    reg = world.p.registry
    ent = world.enterprise(SHANGHAI)
    world.send(getattr(reg.functions, how)(ent.id, 1), world.governor)
    status = 2 if how == "suspend" else 3
    with reverts("ProtocolOrgNotActive", orgId=ent.id, status=status):
        world.send(reg.functions.rotateAccount(world.new_account()), ent)
    assert accounts(world, ent) == [ent.account]


@pytest.mark.parametrize("paused", [False, True])
def test_recover_account_by_governor(world: World, paused: bool) -> None:
    reg = world.p.registry
    ent = world.enterprise(SHANGHAI)
    world.deposit(ent, 5 * YUAN)
    if paused:
        world.send(reg.functions.pause(), world.governor)
    new = world.new_account()
    receipt = world.send(reg.functions.recoverAccount(ent.account, new), world.governor)
    assert world.event(receipt, reg, "AccountAdded") == {
        "orgId": ent.id,
        "account": new,
        "byOrg": 1,
    }
    assert world.event(receipt, reg, "AccountRemoved") == {
        "orgId": ent.id,
        "account": ent.account,
        "byOrg": 1,
    }
    assert accounts(world, ent) == [new]
    assert org_of(world, ent.account) == (ent.id, False) and active(world, new)
    assert world.balance(new) == 5 * YUAN


@pytest.mark.parametrize("kind", [OrgKind.ISSUER, OrgKind.REGULATOR, OrgKind.ENTERPRISE])
def test_only_governor_recovers(world: World, kind: OrgKind) -> None:
    ent = world.enterprise(SHANGHAI)
    caller = ent if kind == OrgKind.ENTERPRISE else world.register(kind, SHANGHAI)
    fn = world.p.registry.functions.recoverAccount(ent.account, world.new_account())
    with reverts(
        "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=GOVERNOR
    ):
        world.send(fn, caller)
    assert accounts(world, ent) == [ent.account]


def test_recover_account_rejected(world: World) -> None:
    reg = world.p.registry
    ent, other = world.enterprise(SHANGHAI), world.enterprise(SHANGHAI)
    cases: list[tuple[ContractFunction, str, dict[str, object]]] = [
        (
            reg.functions.recoverAccount(ZERO_ADDRESS, world.new_account()),
            "RegistryUnknownAccount",
            {},
        ),
        (reg.functions.recoverAccount(ent.account, ZERO_ADDRESS), "RegistryZeroAccount", {}),
        (
            reg.functions.recoverAccount(ent.account, other.account),
            "RegistryAccountAlreadyRegistered",
            {"account": Address(other.account), "orgId": other.id},
        ),
    ]
    stranger = world.new_account()
    cases.append(
        (
            reg.functions.recoverAccount(stranger, world.new_account()),
            "RegistryUnknownAccount",
            {"account": Address(stranger)},
        )
    )
    for fn, name, args in cases:
        with reverts(name, **args):
            world.send(fn, world.governor)
    assert accounts(world, ent) == [ent.account] and accounts(world, other) == [other.account]

"""SettlementToken: CNY in fen, minted and burned by a bank, held only at organisations' vaults."""

from __future__ import annotations

import pytest
from web3 import Web3

from tests.world import SHANGHAI, YUAN, Org, World, reverts, unpermissioned_sender
from voucher_chain.contracts import KindMask, OrgKind, OrgStatus, call

BANK = int(KindMask.BANK)
GOVERNOR = int(KindMask.GOVERNOR)
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class Address(str):
    """An address that equals any spelling of itself: reverts decode addresses in lower case."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __hash__(self) -> int:
        return hash(self.lower())


def ref(text: str) -> bytes:
    return bytes(Web3.keccak(text=text))


def supply(world: World) -> tuple[int, int, int]:
    """(totalSupply, totalMinted, totalBurned)."""
    fns = world.p.settlement.functions
    return (
        int(call(fns.totalSupply())),
        int(call(fns.totalMinted())),
        int(call(fns.totalBurned())),
    )


def test_metadata(world: World) -> None:
    fns = world.p.settlement.functions
    assert call(fns.decimals()) == 2
    assert call(fns.symbol()) == "vCNY"
    assert supply(world) == (0, 0, 0)
    assert call(fns.isEscrow(world.p.programs.address)) is True
    assert call(fns.isEscrow(world.p.orders.address)) is True
    assert call(fns.isEscrow(world.governor.account)) is False


# -- mint and burn --------------------------------------------------------------------------------


@pytest.mark.parametrize("to_vault", [False, True])
def test_bank_mints_into_the_vault(world: World, to_vault: bool) -> None:
    st = world.p.settlement
    bank, ent = world.bank(), world.enterprise(SHANGHAI)
    deposit = ref("deposit-1")
    to = ent.vault if to_vault else ent.account
    receipt = world.send(st.functions.mint(to, 1_234_56, deposit), bank)
    assert world.event(receipt, st, "Minted") == {
        "bankOrg": bank.id,
        "vault": ent.vault,
        "amount": 1_234_56,
        "depositRef": deposit,
    }
    transfer = {"from": ZERO_ADDRESS, "to": ent.vault, "value": 1_234_56}
    assert world.event(receipt, st, "Transfer") == transfer
    assert world.balance(ent) == world.balance(ent.vault) == 1_234_56
    assert supply(world) == (1_234_56, 1_234_56, 0)


@pytest.mark.parametrize(
    "kind",
    [
        OrgKind.GOVERNOR,
        OrgKind.ISSUER,
        OrgKind.FINANCE,
        OrgKind.REGULATOR,
        OrgKind.ENTERPRISE,
        OrgKind.INSTITUTION,
        OrgKind.NONE,
    ],
)
def test_only_a_bank_mints(world: World, kind: OrgKind) -> None:
    ent = world.enterprise(SHANGHAI)
    if kind == OrgKind.GOVERNOR:
        caller = world.governor.account
    elif kind == OrgKind.NONE:
        caller = world.new_account()
    else:
        caller = world.register(kind, SHANGHAI).account
    fn = world.p.settlement.functions.mint(ent.account, 100, ref("d"))
    with reverts("ProtocolUnauthorizedAccount", account=Address(caller), allowedKinds=BANK):
        world.send(fn, caller)
    assert world.balance(ent) == 0 and supply(world) == (0, 0, 0)


def test_mint_rejected(world: World) -> None:
    st = world.p.settlement
    bank, ent = world.bank(), world.enterprise(SHANGHAI)
    individual = world.new_account()
    with reverts("SettlementInvalidHolder", holder=Address(individual)):
        world.send(st.functions.mint(individual, 100, ref("d")), bank)
    unregistered_vault = call(world.p.registry.functions.vaultOf(99))
    with reverts("SettlementInvalidHolder", holder=Address(unregistered_vault)):
        world.send(st.functions.mint(unregistered_vault, 100, ref("d")), bank)
    with reverts("ProtocolZeroAmount"):
        world.send(st.functions.mint(ent.account, 0, ref("d")), bank)
    world.send(world.p.registry.functions.freeze(bank.id, 1), world.governor)
    with reverts("ProtocolOrgNotActive", orgId=bank.id, status=OrgStatus.FROZEN):
        world.send(st.functions.mint(ent.account, 100, ref("d")), bank)
    assert world.balance(individual) == 0 and supply(world) == (0, 0, 0)


def test_bank_burns_from_its_own_vault(world: World) -> None:
    st = world.p.settlement
    bank, ent = world.bank(), world.enterprise(SHANGHAI)
    world.deposit(bank, 500 * YUAN)
    world.deposit(ent, 70 * YUAN)
    withdrawal = ref("withdrawal-1")
    receipt = world.send(st.functions.burn(200 * YUAN, withdrawal), bank)
    assert world.event(receipt, st, "Burned") == {
        "bankOrg": bank.id,
        "amount": 200 * YUAN,
        "withdrawalRef": withdrawal,
    }
    transfer = {"from": bank.vault, "to": ZERO_ADDRESS, "value": 200 * YUAN}
    assert world.event(receipt, st, "Transfer") == transfer
    assert world.balance(bank) == 300 * YUAN and world.balance(ent) == 70 * YUAN
    assert supply(world) == (370 * YUAN, 570 * YUAN, 200 * YUAN)


def test_burn_rejected(world: World) -> None:
    st = world.p.settlement
    bank, ent = world.bank(), world.enterprise(SHANGHAI)
    world.deposit(bank, 10 * YUAN)
    world.deposit(ent, 10 * YUAN)
    with reverts(
        "ERC20InsufficientBalance", sender=Address(bank.vault), balance=10 * YUAN, needed=11 * YUAN
    ):
        world.send(st.functions.burn(11 * YUAN, ref("w")), bank)
    with reverts("ProtocolZeroAmount"):
        world.send(st.functions.burn(0, ref("w")), bank)
    for caller in (ent, world.governor, world.finance(SHANGHAI)):
        with reverts(
            "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=BANK
        ):
            world.send(st.functions.burn(1, ref("w")), caller)
    assert supply(world) == (20 * YUAN, 20 * YUAN, 0)


# -- transfers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("to_vault", [False, True])
def test_transfer_between_organisations_lands_in_vaults(world: World, to_vault: bool) -> None:
    st = world.p.settlement
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(ent, 100 * YUAN)
    receipt = world.send(
        st.functions.transfer(inst.vault if to_vault else inst.account, 4_050), ent
    )
    assert world.event(receipt, st, "Transfer") == {
        "from": ent.vault,
        "to": inst.vault,
        "value": 4_050,
    }
    assert world.balance(inst) == world.balance(inst.vault) == 4_050
    assert world.balance(ent) == 100 * YUAN - 4_050
    assert supply(world) == (100 * YUAN, 100 * YUAN, 0)


def test_every_account_of_an_organisation_reads_the_vault(world: World) -> None:
    ent = world.enterprise(SHANGHAI)
    second = world.new_account()
    world.send(world.p.registry.functions.addAccount(ent.id, second), ent)
    world.deposit(ent, 9 * YUAN)
    assert (
        world.balance(ent.account) == world.balance(second) == world.balance(ent.vault) == 9 * YUAN
    )
    # Either key pays from the same money.
    world.send(world.p.settlement.functions.transfer(world.bank().account, 4 * YUAN), second)
    assert world.balance(ent.account) == 5 * YUAN


def test_transfer_rejected(world: World) -> None:
    st = world.p.settlement
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(ent, 100 * YUAN)
    individual = world.new_account()
    with reverts("SettlementInvalidHolder", holder=Address(individual)):
        world.send(st.functions.transfer(individual, 1), ent)
    with reverts("ERC20InvalidReceiver", receiver=Address(ZERO_ADDRESS)):
        world.send(st.functions.transfer(ZERO_ADDRESS, 1), ent)
    with reverts("ProtocolZeroAmount"):
        world.send(st.functions.transfer(inst.account, 0), ent)
    with reverts(
        "ERC20InsufficientBalance",
        sender=Address(ent.vault),
        balance=100 * YUAN,
        needed=100 * YUAN + 1,
    ):
        world.send(st.functions.transfer(inst.account, 100 * YUAN + 1), ent)
    # An address that is no organisation's cannot pay either (it can never hold money).
    with reverts("SettlementInvalidHolder", holder=Address(individual)):
        world.send(st.functions.transfer(inst.account, 1), individual)
    assert world.balance(ent) == 100 * YUAN and world.balance(inst) == 0


@pytest.mark.parametrize("status", [OrgStatus.SUSPENDED, OrgStatus.FROZEN])
def test_inactive_payer_cannot_pay(world: World, status: OrgStatus) -> None:
    st, reg = world.p.settlement, world.p.registry
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(ent, 100 * YUAN)
    world.deposit(inst, 100 * YUAN)
    how = reg.functions.suspend if status == OrgStatus.SUSPENDED else reg.functions.freeze
    world.send(how(ent.id, 1), world.governor)
    with reverts("SettlementHolderNotActive", holder=Address(ent.vault), status=status):
        world.send(st.functions.transfer(inst.account, 1 * YUAN), ent)
    # It may still be paid (a refund or a settlement reaching a frozen party is kept at its vault).
    world.send(st.functions.transfer(ent.account, 1 * YUAN), inst)
    assert world.balance(ent) == 101 * YUAN and world.balance(inst) == 99 * YUAN


# -- allowances -----------------------------------------------------------------------------------


def _approved(world: World, amount: int) -> tuple[Org, Org, Org]:
    ent, inst, bank = world.enterprise(SHANGHAI), world.institution(SHANGHAI), world.bank()
    world.deposit(ent, 100 * YUAN)
    receipt = world.send(world.p.settlement.functions.approve(inst.account, amount), ent)
    assert world.event(receipt, world.p.settlement, "Approval") == {
        "owner": ent.vault,
        "spender": inst.vault,
        "value": amount,
    }
    return ent, inst, bank


def test_transfer_from_spends_the_allowance(world: World) -> None:
    st = world.p.settlement
    ent, inst, bank = _approved(world, 30 * YUAN)
    assert call(st.functions.allowance(ent.account, inst.account)) == 30 * YUAN
    assert call(st.functions.allowance(ent.vault, inst.account)) == 30 * YUAN
    receipt = world.send(st.functions.transferFrom(ent.account, bank.account, 20 * YUAN), inst)
    transfer = {"from": ent.vault, "to": bank.vault, "value": 20 * YUAN}
    assert world.event(receipt, st, "Transfer") == transfer
    assert call(st.functions.allowance(ent.account, inst.account)) == 10 * YUAN
    assert world.balance(ent) == 80 * YUAN and world.balance(bank) == 20 * YUAN


def test_transfer_from_beyond_the_allowance(world: World) -> None:
    st = world.p.settlement
    ent, inst, bank = _approved(world, 30 * YUAN)
    with reverts(
        "ERC20InsufficientAllowance",
        spender=Address(inst.vault),
        allowance=30 * YUAN,
        needed=30 * YUAN + 1,
    ):
        world.send(st.functions.transferFrom(ent.account, bank.account, 30 * YUAN + 1), inst)
    stranger = world.enterprise(SHANGHAI)  # no allowance at all
    with reverts(
        "ERC20InsufficientAllowance", spender=Address(stranger.vault), allowance=0, needed=1
    ):
        world.send(st.functions.transferFrom(ent.account, stranger.account, 1), stranger)
    assert world.balance(ent) == 100 * YUAN
    assert call(st.functions.allowance(ent.account, inst.account)) == 30 * YUAN


@unpermissioned_sender
def test_escrows_need_no_allowance(world: World) -> None:
    st = world.p.settlement
    ent, bank = world.enterprise(SHANGHAI), world.bank()
    world.deposit(ent, 10 * YUAN)
    escrow = world.new_account()  # the governor designates an address as a protocol escrow
    receipt = world.send(st.functions.setEscrow(escrow, True), world.governor)
    assert world.event(receipt, st, "EscrowSet") == {"escrow": escrow, "trusted": True}
    assert call(st.functions.isEscrow(escrow)) is True
    world.send(st.functions.transferFrom(ent.account, escrow, 4 * YUAN), escrow)
    assert world.balance(escrow) == 4 * YUAN  # an escrow holds at its own address
    world.send(st.functions.transfer(bank.account, 1 * YUAN), escrow)
    assert world.balance(bank) == 1 * YUAN
    receipt = world.send(st.functions.setEscrow(escrow, False), world.governor)
    assert world.event(receipt, st, "EscrowSet") == {"escrow": escrow, "trusted": False}
    with reverts("ERC20InsufficientAllowance", spender=Address(escrow), allowance=0):
        world.send(st.functions.transferFrom(ent.account, bank.account, 1 * YUAN), escrow)
    assert world.balance(ent) == 6 * YUAN


@unpermissioned_sender
def test_an_escrow_pays_and_pulls_directly(world: World) -> None:
    """escrowPull/escrowPay: the escrow names the vault; the token moves the money, no allowance."""
    st = world.p.settlement
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(ent, 10 * YUAN)
    escrow = world.new_account()
    world.send(st.functions.setEscrow(escrow, True), world.governor)
    receipt = world.send(st.functions.escrowPull(ent.vault, 4 * YUAN), escrow)
    pulled = {"from": Address(ent.vault), "to": Address(escrow), "value": 4 * YUAN}
    assert world.event(receipt, st, "Transfer") == pulled
    receipt = world.send(st.functions.escrowPay(inst.vault, 3 * YUAN), escrow)
    paid = {"from": Address(escrow), "to": Address(inst.vault), "value": 3 * YUAN}
    assert world.event(receipt, st, "Transfer") == paid
    assert (world.balance(ent), world.balance(escrow), world.balance(inst)) == (
        6 * YUAN,
        1 * YUAN,
        3 * YUAN,
    )
    with reverts("ProtocolZeroAmount"):
        world.send(st.functions.escrowPay(inst.vault, 0), escrow)
    with reverts("ProtocolZeroAmount"):
        world.send(st.functions.escrowPull(ent.vault, 0), escrow)
    with reverts("SettlementInvalidHolder", holder=ZERO_ADDRESS):
        world.send(st.functions.escrowPay(ZERO_ADDRESS, 1), escrow)  # would burn uncounted
    with reverts("SettlementInvalidHolder", holder=ZERO_ADDRESS):
        world.send(st.functions.escrowPull(ZERO_ADDRESS, 1), escrow)  # would mint uncounted
    with reverts("ERC20InsufficientBalance", sender=Address(escrow)):
        world.send(st.functions.escrowPay(inst.vault, 2 * YUAN), escrow)
    for other in (world.p.orders.address, world.p.programs.address, escrow):  # books stay exact
        with reverts("SettlementInvalidHolder", holder=Address(other)):
            world.send(st.functions.escrowPay(other, 1), escrow)
        with reverts("SettlementInvalidHolder", holder=Address(other)):
            world.send(st.functions.escrowPull(other, 1), escrow)
    world.send(st.functions.setEscrow(escrow, False), world.governor)
    with reverts("SettlementNotEscrow", caller=Address(escrow)):
        world.send(st.functions.escrowPay(inst.vault, 1), escrow)
    assert (world.balance(ent), world.balance(escrow), world.balance(inst)) == (
        6 * YUAN,
        1 * YUAN,
        3 * YUAN,
    )
    assert supply(world) == (10 * YUAN, 10 * YUAN, 0)


def test_only_escrows_pay_and_pull_directly(world: World) -> None:
    st = world.p.settlement
    bank, ent, inst = world.bank(), world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(ent, 10 * YUAN)
    world.deposit(bank, 10 * YUAN)
    for caller, fn in [
        (ent, st.functions.escrowPay(inst.vault, 1)),  # its own money, without transfer's checks
        (inst, st.functions.escrowPull(ent.vault, 1)),  # someone else's, without an allowance
        (bank, st.functions.escrowPay(ent.vault, 1)),
        (world.governor, st.functions.escrowPull(bank.vault, 1)),
    ]:
        with reverts("SettlementNotEscrow", caller=Address(caller.account)):
            world.send(fn, caller)
    assert (world.balance(ent), world.balance(bank), world.balance(inst)) == (
        10 * YUAN,
        10 * YUAN,
        0,
    )


def test_set_escrow_rejected(world: World) -> None:
    st = world.p.settlement
    target = world.new_account()
    for kind in (OrgKind.BANK, OrgKind.ISSUER, OrgKind.REGULATOR):
        caller = world.register(kind, SHANGHAI)
        with reverts(
            "ProtocolUnauthorizedAccount", account=Address(caller.account), allowedKinds=GOVERNOR
        ):
            world.send(st.functions.setEscrow(target, True), caller)
    with reverts("ProtocolAlreadyWired"):
        world.send(st.functions.setEscrow(ZERO_ADDRESS, True), world.governor)
    assert call(st.functions.isEscrow(target)) is False


# -- supply and pause -----------------------------------------------------------------------------


def test_supply_is_minted_minus_burned(world: World) -> None:
    st = world.p.settlement
    bank, ent, inst = world.bank(), world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(ent, 1_000 * YUAN)
    world.deposit(inst, 250 * YUAN)
    world.send(st.functions.transfer(bank.account, 600 * YUAN), ent)
    world.send(st.functions.burn(550 * YUAN, ref("w1")), bank)
    world.send(st.functions.transfer(bank.account, 50 * YUAN), inst)
    world.send(st.functions.burn(100 * YUAN, ref("w2")), bank)
    total, minted, burned = supply(world)
    assert (minted, burned) == (1_250 * YUAN, 650 * YUAN)
    assert total == minted - burned == sum(world.balance(o) for o in (bank, ent, inst))


def test_paused_token_moves_nothing(world: World) -> None:
    st = world.p.settlement
    bank, ent, inst = world.bank(), world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    world.deposit(bank, 10 * YUAN)
    world.deposit(ent, 10 * YUAN)
    world.send(st.functions.approve(inst.account, 5 * YUAN), ent)
    world.send(world.p.registry.functions.pause(), world.governor)
    attempts = [
        (st.functions.mint(ent.account, 1, ref("d")), bank),
        (st.functions.burn(1, ref("w")), bank),
        (st.functions.transfer(inst.account, 1), ent),
        (st.functions.transferFrom(ent.account, inst.account, 1), inst),
    ]
    for fn, sender in attempts:
        with reverts("ProtocolPaused"):
            world.send(fn, sender)
    assert (world.balance(bank), world.balance(ent), world.balance(inst)) == (
        10 * YUAN,
        10 * YUAN,
        0,
    )
    assert supply(world) == (20 * YUAN, 20 * YUAN, 0)

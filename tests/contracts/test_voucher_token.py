"""VoucherToken: non-transferable ERC-1155 vouchers, moved only by programs and the order book."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from tests.world import SHANGHAI, YUAN, Org, World, reverts
from voucher_chain.contracts import DEFAULT_VOUCHER_URI, Category, KindMask, OrgKind, call

GOVERNOR = int(KindMask.GOVERNOR)
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ISSUED = 2_000 * YUAN  # an electronic quota: one unit is one fen


class Address(str):
    """An address that equals any spelling of itself: reverts decode addresses in lower case."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __hash__(self) -> int:
        return hash(self.lower())


@dataclass(frozen=True)
class Setup:
    issuer: Org
    ent: Org
    program_id: int
    issue_receipt: TxReceipt


def setup(world: World) -> Setup:
    """A Shanghai program and an enterprise holding ``ISSUED`` of its vouchers."""
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program_id = world.program(issuer, finance, budget=10_000 * YUAN)
    ent = world.enterprise(SHANGHAI)
    receipt = world.issue(issuer, program_id, ent, ISSUED)
    return Setup(issuer, ent, program_id, receipt)


@pytest.mark.parametrize(
    "target", ["other enterprise", "its own vault", "institution", "individual", "unknown vault"]
)
def test_vouchers_cannot_be_transferred(world: World, target: str) -> None:
    vt = world.p.vouchers.functions
    s = setup(world)
    if target == "other enterprise":
        to = world.enterprise(SHANGHAI).account
    elif target == "its own vault":
        to = s.ent.vault
    elif target == "institution":
        to = world.institution(SHANGHAI).account
    elif target == "individual":
        to = world.new_account()
    else:
        to = str(call(world.p.registry.functions.vaultOf(999)))
    pid = s.program_id
    attempts: list[ContractFunction] = [
        vt.safeTransferFrom(s.ent.account, to, pid, 1, b""),
        vt.safeTransferFrom(s.ent.vault, to, pid, ISSUED, b""),
        vt.safeBatchTransferFrom(s.ent.account, to, [pid], [1], b""),
        vt.safeBatchTransferFrom(s.ent.vault, to, [pid, pid], [1, 2], b""),
    ]
    for fn in attempts:
        for sender in (s.ent.account, s.issuer.account, world.governor.account):
            with reverts("VoucherNonTransferable"):
                world.send(fn, sender)
    assert world.vouchers(s.ent, pid) == ISSUED
    assert world.vouchers(to, pid) == (ISSUED if target == "its own vault" else 0)


@pytest.mark.parametrize("approved", [True, False])
def test_vouchers_cannot_be_delegated(world: World, approved: bool) -> None:
    vt = world.p.vouchers.functions
    ent, operator = world.enterprise(SHANGHAI), world.enterprise(SHANGHAI)
    for who in (ent.account, world.governor.account):
        with reverts("VoucherNonTransferable"):
            world.send(vt.setApprovalForAll(operator.account, approved), who)
    assert call(vt.isApprovedForAll(ent.account, operator.account)) is False
    assert call(vt.isApprovedForAll(ent.vault, world.p.orders.address)) is False


@pytest.mark.parametrize("operation", ["mint", "burn", "lock", "unlock"])
def test_only_wired_operators_move_vouchers(world: World, operation: str) -> None:
    vt = world.p.vouchers.functions
    s = setup(world)
    pid, vault = s.program_id, s.ent.vault
    fn = {
        "mint": vt.mint(vault, pid, 1),
        "burn": vt.burn(vault, pid, 1),
        "lock": vt.lock(vault, pid, 1),
        "unlock": vt.unlock(vault, pid, 1),
    }[operation]
    for caller in (world.governor.account, s.issuer.account, s.ent.account, world.new_account()):
        with reverts("VoucherUnauthorizedOperator", caller=Address(caller)):
            world.send(fn, caller)
    assert world.vouchers(s.ent, pid) == ISSUED
    assert world.vouchers(world.p.orders.address, pid) == 0


def test_operators_are_wired_once(world: World) -> None:
    vt = world.p.vouchers.functions
    programs, orders = world.p.programs.address, world.p.orders.address
    assert call(vt.operators()) == [programs, orders]
    rogue = world.new_account()
    for args in [(rogue, rogue), (programs, orders), (ZERO_ADDRESS, ZERO_ADDRESS)]:
        with reverts("ProtocolAlreadyWired"):
            world.send(vt.setOperators(*args), world.governor)
    issuer = world.issuer(SHANGHAI)
    with reverts(
        "ProtocolUnauthorizedAccount", account=Address(issuer.account), allowedKinds=GOVERNOR
    ):
        world.send(vt.setOperators(rogue, rogue), issuer)
    assert call(vt.operators()) == [programs, orders]


def test_readable_as_erc1155(world: World) -> None:
    vt = world.p.vouchers.functions
    s = setup(world)
    second = world.new_account()
    world.send(world.p.registry.functions.addAccount(s.ent.id, second), s.ent)
    pid = s.program_id
    for who in (s.ent.account, second, s.ent.vault):
        assert call(vt.balanceOf(who, pid)) == ISSUED
    assert call(vt.balanceOf(s.ent.account, pid + 1)) == 0
    other = world.enterprise(SHANGHAI)
    batch = call(vt.balanceOfBatch([s.ent.account, second, other.account], [pid, pid, pid]))
    assert batch == [ISSUED, ISSUED, 0]
    assert call(vt.uri(pid)) == DEFAULT_VOUCHER_URI
    assert call(vt.supportsInterface(bytes.fromhex("d9b67a26"))) is True  # ERC-1155
    assert call(vt.supportsInterface(bytes.fromhex("0e89341c"))) is True  # metadata URI
    assert call(vt.supportsInterface(bytes.fromhex("01ffc9a7"))) is True  # ERC-165
    assert call(vt.supportsInterface(bytes.fromhex("ffffffff"))) is False
    assert call(vt.registry()) == world.p.registry.address


def test_set_uri_governor_only(world: World) -> None:
    vt = world.p.vouchers
    new_uri = "https://vouchers.example.gov.cn/{id}.json"
    receipt = world.send(vt.functions.setURI(new_uri), world.governor)
    assert world.event(receipt, vt, "URI") == {"value": new_uri, "id": 0}
    assert call(vt.functions.uri(7)) == new_uri
    ent = world.enterprise(SHANGHAI)
    with reverts(
        "ProtocolUnauthorizedAccount", account=Address(ent.account), allowedKinds=GOVERNOR
    ):
        world.send(vt.functions.setURI("x"), ent)
    assert call(vt.functions.uri(7)) == new_uri


def test_vouchers_sit_only_at_holder_vaults_or_the_order_book(world: World) -> None:
    vt, orders = world.p.vouchers, world.p.orders
    s = setup(world)
    pid = s.program_id
    team = world.enterprise(SHANGHAI, kind=OrgKind.STARTUP_TEAM)
    inst = world.institution(SHANGHAI)
    service_id = world.list_service(inst, Category.TESTING, 2_000 * YUAN)
    world.deposit(s.ent, 1_000 * YUAN)
    receipts = [s.issue_receipt, world.issue(s.issuer, pid, team, 300 * YUAN)]
    assert world.event(s.issue_receipt, vt, "TransferSingle") == {
        "operator": world.p.programs.address,
        "from": ZERO_ADDRESS,
        "to": s.ent.vault,
        "id": pid,
        "value": ISSUED,
    }

    # Placing an order locks the vouchers at the order book; cancelling returns them to the vault.
    def place() -> TxReceipt:
        fn = orders.functions.placeOrder(
            service_id, 1, pid, 1_000 * YUAN, 1_000 * YUAN, world.request_id()
        )
        receipts.append(world.send(fn, s.ent))
        return receipts[-1]

    order_id = world.event(place(), orders, "OrderPlaced")["orderId"]
    lock = world.event(receipts[-1], vt, "TransferSingle")
    assert (lock["operator"], lock["from"], lock["to"]) == (
        orders.address,
        s.ent.vault,
        orders.address,
    )
    assert lock["value"] == 1_000 * YUAN
    receipts.append(world.send(orders.functions.cancel(order_id), s.ent))
    unlock = world.event(receipts[-1], vt, "TransferSingle")
    assert (unlock["from"], unlock["to"], unlock["value"]) == (
        orders.address,
        s.ent.vault,
        1_000 * YUAN,
    )
    place()
    assert world.vouchers(orders.address, pid) == 1_000 * YUAN
    assert world.vouchers(s.ent, pid) == ISSUED - 1_000 * YUAN
    assert world.vouchers(team, pid) == 300 * YUAN
    # An institution is never eligible to receive vouchers.
    with reverts("ProgramIneligibleKind", programId=pid, orgId=inst.id, kind=OrgKind.INSTITUTION):
        world.issue(s.issuer, pid, inst, 1)
    assert world.vouchers(inst, pid) == 0
    # Every voucher movement so far went to a holder's vault or the order book.
    allowed = {s.ent.vault, team.vault, orders.address}
    moves = [e["args"] for r in receipts for e in world.events(r, vt, "TransferSingle")]
    assert moves and all(m["to"] in allowed for m in moves)
    total = (
        world.vouchers(s.ent, pid) + world.vouchers(team, pid) + world.vouchers(orders.address, pid)
    )
    assert total == ISSUED + 300 * YUAN

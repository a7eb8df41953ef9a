"""Self-custody: EIP-712 ForwardRequests signed by an enterprise's wallet, relayed through the
ERC-2771 forwarder, executed as the enterprise; bad requests refused with their reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt, Wei

from tests.signer.conftest import FAST
from tests.world import SHANGHAI, SHANGHAI_PUDONG, YUAN, Org, World, reverts
from voucher_chain.contracts import OrgKind, Protocol, call, transact
from voucher_chain.signer import (
    FORWARD_REQUEST_TYPES,
    ForwardRequestRefused,
    Keystore,
    LocalSigner,
    RefusalReason,
    Relayer,
    build_forward_request,
    request_data,
    sign_forward_request,
)

GAS = 1_000_000


@dataclass
class Scene:
    world: World
    wallet: LocalAccount  # the enterprise's self-custody key, never seen by the relayer
    ent: Org
    program: int
    relayer: Relayer
    issuer: Org

    def apply(self, units: int = 100 * YUAN, **overrides: Any) -> dict[str, Any]:
        """A request (typed data) that the enterprise applies for ``units`` vouchers."""
        p = self.world.p
        data = p.programs.encode_abi(
            "applyForVouchers", args=[self.program, units, self.world.request_id()]
        )
        kwargs: dict[str, Any] = {"gas": GAS, "deadline": self.world.now() + 600}
        kwargs.update(overrides)
        return build_forward_request(
            p.forwarder, self.ent.account, p.programs.address, data, **kwargs
        )

    def sign(self, typed: dict[str, Any]) -> bytes:
        return bytes(Account.sign_typed_data(self.wallet.key, full_message=typed).signature)

    def nonce(self) -> int:
        return int(call(self.world.p.forwarder.functions.nonces(self.ent.account)))

    def applications(self) -> int:
        logs = self.world.p.programs.events.ApplicationSubmitted.get_logs(from_block=0)
        return len(logs)


@pytest.fixture(scope="module")
def _scene(_chain: tuple[EthereumTester, Web3, Protocol]) -> Iterator[Scene]:
    """Built once per module (a program, the enterprise, the relayer); the chain goes back to
    just after deployment at the end, as the ``world`` fixture leaves it."""
    tester, w3, protocol = _chain
    before = tester.take_snapshot()
    world = World(tester=tester, w3=w3, protocol=protocol)
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program = world.program(issuer, finance, eligible_regions=(SHANGHAI,))
    wallet = Account.create()
    ent = world.register(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, account=wallet.address)
    relayer = world.new_account()  # a registered account of the governor's organisation
    world.send(world.p.registry.functions.addAccount(1, relayer), world.governor)
    try:
        yield Scene(
            world=world,
            wallet=wallet,
            ent=ent,
            program=program,
            relayer=Relayer(world.p.forwarder, relayer),
            issuer=issuer,
        )
    finally:
        tester.revert_to_snapshot(before)


@pytest.fixture
def scene(_scene: Scene) -> Iterator[Scene]:
    """The module's scene, rolled back after each test."""
    snapshot = _scene.world.tester.take_snapshot()
    try:
        yield _scene
    finally:
        _scene.world.tester.revert_to_snapshot(snapshot)


def test_typed_data_matches_the_forwarder(scene: Scene) -> None:
    typed = scene.apply()
    p = scene.world.p
    assert typed["domain"] == {
        "name": "VoucherChain",
        "version": "1",
        "chainId": scene.world.w3.eth.chain_id,
        "verifyingContract": p.forwarder.address,
    }
    assert typed["types"]["ForwardRequest"] == FORWARD_REQUEST_TYPES["ForwardRequest"]
    assert typed["message"]["nonce"] == 0
    assert call(p.forwarder.functions.verify(request_data(typed, scene.sign(typed))))


def test_a_relayed_request_executes_as_the_enterprise(scene: Scene) -> None:
    w, p = scene.world, scene.world.p
    typed = scene.apply(units=250 * YUAN)
    receipt = scene.relayer.relay(typed, scene.sign(typed))

    assert receipt["from"] == scene.relayer.account
    submitted = w.event(receipt, p.programs, "ApplicationSubmitted")
    assert submitted["enterpriseOrg"] == scene.ent.id  # the enterprise, not the relayer's org 1
    assert submitted["units"] == 250 * YUAN and submitted["programId"] == scene.program
    executed = w.event(receipt, p.forwarder, "ExecutedForwardRequest")
    assert executed == {"signer": scene.ent.account, "nonce": 0, "success": True}
    assert scene.nonce() == 1
    application = call(p.programs.functions.application(submitted["applicationId"]))
    assert application[1] == scene.ent.id
    # the wallet never needed gas or a transaction of its own
    assert w.w3.eth.get_transaction_count(scene.wallet.address) == 0


def test_an_order_placed_through_the_forwarder_is_the_enterprise_s(scene: Scene) -> None:
    w, p = scene.world, scene.world.p
    inst = w.institution(SHANGHAI)
    price = 10_000 * YUAN
    service = w.list_service(inst, price=price)
    w.issue(scene.issuer, scene.program, scene.ent, price)
    w.deposit(scene.ent, price)
    before = w.vouchers(scene.ent, scene.program)
    data = p.orders.encode_abi(
        "placeOrder", args=[service, 1, scene.program, price // 2, price // 2, w.request_id()]
    )
    typed = build_forward_request(
        p.forwarder, scene.ent.account, p.orders.address, data, gas=GAS, deadline=w.now() + 600
    )
    receipt = scene.relayer.relay(typed, scene.sign(typed))
    placed = w.event(receipt, p.orders, "OrderPlaced")
    assert placed["enterpriseOrg"] == scene.ent.id and placed["institutionOrg"] == inst.id
    assert w.vouchers(scene.ent, scene.program) == before - price // 2  # the enterprise's vouchers
    assert w.order(placed["orderId"])[2] == scene.ent.id


def test_the_relayer_account_itself_could_not_apply(scene: Scene) -> None:
    """The relayer is the governor's account: only the forwarded sender makes the call valid."""
    fn = scene.world.p.programs.functions.applyForVouchers(
        scene.program, 100, scene.world.request_id()
    )
    with pytest.raises(Exception):  # noqa: B017 - any revert: the governor holds no vouchers
        transact(fn, scene.relayer.account)


def test_a_keystore_signed_request_relays_through_a_swappable_submitter(
    scene: Scene, tmp_path: Any
) -> None:
    w, p = scene.world, scene.world.p
    store = Keystore.create(tmp_path / "ent.json", passphrase="p", scrypt=FAST)
    custodial = store.generate(None, "second enterprise key")
    w.send(p.registry.functions.addAccount(scene.ent.id, custodial), scene.world.governor)
    data = p.programs.encode_abi("applyForVouchers", args=[scene.program, 10, w.request_id()])
    typed = build_forward_request(
        p.forwarder, custodial, p.programs.address, data, gas=GAS, deadline=w.now() + 60
    )
    sent: list[str] = []

    def submit(fn: ContractFunction, sender: str) -> TxReceipt:
        sent.append(sender)
        return transact(fn, sender)

    relayer = Relayer(p.forwarder, scene.relayer.account, submit=submit)
    receipt = relayer.relay(typed, sign_forward_request(LocalSigner(store), typed))
    assert sent == [scene.relayer.account]
    assert w.event(receipt, p.programs, "ApplicationSubmitted")["enterpriseOrg"] == scene.ent.id


# -- refusals -------------------------------------------------------------------------------------


def tampered(scene: Scene) -> tuple[dict[str, Any], bytes]:
    typed = scene.apply(units=100 * YUAN)
    signature = scene.sign(typed)
    bigger = scene.apply(units=90_000 * YUAN)  # same nonce, larger amount: the signature is reused
    return bigger, signature


def expired(scene: Scene) -> tuple[dict[str, Any], bytes]:
    typed = scene.apply(deadline=scene.world.now() + 30)
    signature = scene.sign(typed)
    scene.world.travel(3600)
    return typed, signature


def replayed(scene: Scene) -> tuple[dict[str, Any], bytes]:
    typed = scene.apply()
    signature = scene.sign(typed)
    scene.relayer.relay(typed, signature)
    return typed, signature


def other_chain(scene: Scene) -> tuple[dict[str, Any], bytes]:
    typed = scene.apply()
    typed["domain"]["chainId"] = 1
    return typed, scene.sign(typed)


def wrong_forwarder(scene: Scene) -> tuple[dict[str, Any], bytes]:
    typed = scene.apply()
    typed["domain"]["verifyingContract"] = scene.world.p.orders.address
    return typed, scene.sign(typed)


def foreign_signer(scene: Scene) -> tuple[dict[str, Any], bytes]:
    typed = scene.apply()
    return typed, bytes(Account.sign_typed_data(Account.create().key, full_message=typed).signature)


def future_nonce(scene: Scene) -> tuple[dict[str, Any], bytes]:
    typed = scene.apply(nonce=5)
    return typed, scene.sign(typed)


Case = Callable[[Scene], tuple[dict[str, Any], bytes]]


@pytest.mark.parametrize(
    ("make", "reason", "words"),
    [
        (tampered, RefusalReason.TAMPERED, "changed after signing"),
        (foreign_signer, RefusalReason.TAMPERED, "signed by another key"),
        (expired, RefusalReason.EXPIRED, "sign a new one"),
        (replayed, RefusalReason.REPLAYED, "already used"),
        (other_chain, RefusalReason.OTHER_CHAIN, "signed for chain 1"),
        (wrong_forwarder, RefusalReason.WRONG_FORWARDER, "signed for forwarder"),
        (future_nonce, RefusalReason.FUTURE_NONCE, "next nonce is 0"),
    ],
    ids=lambda v: v.__name__ if callable(v) else None,
)
def test_bad_requests_are_refused_with_their_reason(
    scene: Scene, make: Case, reason: RefusalReason, words: str
) -> None:
    typed, signature = make(scene)
    nonce, applications = scene.nonce(), scene.applications()
    block = scene.world.w3.eth.block_number

    with pytest.raises(ForwardRequestRefused) as info:
        scene.relayer.relay(typed, signature)

    err = info.value
    assert err.reason is reason
    assert words in str(err) and reason.value in str(err)
    assert err.signer == scene.ent.account
    assert (scene.nonce(), scene.applications()) == (nonce, applications)  # no state change
    assert scene.world.w3.eth.block_number == block  # nothing was sent


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t["message"].pop("gas"),
        lambda t: t["message"].update(deadline="soon"),
        lambda t: t["domain"].update(chainId="x"),
        lambda t: t.update(primaryType="Permit"),
        lambda t: t["message"].update(to="nowhere"),
    ],
)
def test_malformed_requests_are_refused_as_tampered(
    scene: Scene, damage: Callable[[dict[str, Any]], object]
) -> None:
    typed = scene.apply()
    signature = scene.sign(typed)
    damage(typed)
    with pytest.raises(ForwardRequestRefused) as info:
        scene.relayer.relay(typed, signature)
    assert info.value.reason is RefusalReason.TAMPERED
    with pytest.raises(ForwardRequestRefused):
        scene.relayer.relay(scene.apply(), b"\x01" * 10)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (tampered, "ERC2771ForwarderInvalidSigner"),
        (replayed, "ERC2771ForwarderInvalidSigner"),
        (other_chain, "ERC2771ForwarderInvalidSigner"),
        (expired, "ERC2771ForwarderExpiredRequest"),
    ],
    ids=lambda v: v.__name__ if callable(v) else v,
)
def test_the_forwarder_itself_refuses_them(scene: Scene, make: Case, error: str) -> None:
    """Defence in depth, and what the chain reports: a replayed request is not an
    ``InvalidAccountNonce`` but an invalid signer (the nonce is read from state when verifying)."""
    typed, signature = make(scene)
    request = request_data(typed, signature)
    forwarder = scene.world.p.forwarder
    nonce, applications = scene.nonce(), scene.applications()
    assert call(forwarder.functions.verify(request)) is False
    with reverts(error):
        transact(forwarder.functions.execute(request), scene.relayer.account)
    assert (scene.nonce(), scene.applications()) == (nonce, applications)


def test_a_valid_request_whose_call_reverts_names_the_target_error(scene: Scene) -> None:
    # eth-tester charges gas even for eth_call: the dry run that names the target's error needs a
    # sender with a balance (on the zero-fee embedded node it runs from the forwarder as is)
    w3 = scene.world.w3
    w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": scene.ent.account, "value": Wei(10**18)}
    )
    typed = scene.apply(units=0)
    with pytest.raises(ForwardRequestRefused) as info:
        scene.relayer.relay(typed, scene.sign(typed))
    err = info.value
    assert err.reason is RefusalReason.CALL_REVERTED
    assert err.revert is not None and err.revert.name not in ("FailedCall", "UnknownError")
    assert err.revert.name in str(err) or err.revert.message in str(err)
    assert scene.nonce() == 0


def test_without_a_dry_run_the_refusal_still_names_the_forwarder_error(scene: Scene) -> None:
    typed = scene.apply(units=0)
    with pytest.raises(ForwardRequestRefused) as info:
        scene.relayer.relay(typed, scene.sign(typed))
    assert info.value.reason is RefusalReason.CALL_REVERTED
    assert info.value.revert is not None and info.value.revert.name == "FailedCall"


def test_an_allowlist_limits_the_targets(scene: Scene) -> None:
    p = scene.world.p
    relayer = Relayer(p.forwarder, scene.relayer.account, allowed_targets=[p.orders.address])
    typed = scene.apply()
    with pytest.raises(ForwardRequestRefused) as info:
        relayer.relay(typed, scene.sign(typed))
    assert info.value.reason is RefusalReason.UNTRUSTED_TARGET


def test_a_request_is_refused_if_it_ran_between_check_and_submission(scene: Scene) -> None:
    """A race: another relayer executes the request after our check; the revert is classified."""
    typed = scene.apply()
    signature = scene.sign(typed)
    p = scene.world.p

    def racing_submit(fn: ContractFunction, sender: str) -> TxReceipt:
        transact(p.forwarder.functions.execute(request_data(typed, signature)), sender)
        return transact(fn, sender)

    relayer = Relayer(p.forwarder, scene.relayer.account, submit=racing_submit)
    with pytest.raises(ForwardRequestRefused) as info:
        relayer.relay(typed, signature)
    assert info.value.reason is RefusalReason.REPLAYED
    assert info.value.revert is not None
    assert info.value.revert.name == "ERC2771ForwarderInvalidSigner"
    assert scene.nonce() == 1 and scene.applications() == 1

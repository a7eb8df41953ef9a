"""A retried value-moving operation executes once and pays once — also after a timeout."""

from __future__ import annotations

import pytest
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from tests.world import SHANGHAI, YUAN, Org, World
from voucher_chain.contracts import Category, transact
from voucher_chain.services import OrderCreate, VoucherClient
from voucher_chain.signer.submit import SubmissionTimeout


class TimesOutOnce:
    """A transactor whose first send reaches the chain but whose receipt 'never arrives'."""

    def __init__(self) -> None:
        self.sent = 0

    def __call__(self, fn: ContractFunction, sender: str) -> TxReceipt:
        receipt = transact(fn, sender)
        self.sent += 1
        if self.sent == 1:
            raise SubmissionTimeout("simulated", tx_hash=receipt["transactionHash"].to_0x_hex())
        return receipt


@pytest.fixture
def flaky() -> TimesOutOnce:
    return TimesOutOnce()


def _setup(world: World) -> tuple[Org, Org, Org, int, int]:
    issuer, finance = world.issuer(SHANGHAI), world.finance(SHANGHAI)
    program_id = world.program(issuer, finance, spend_regions=(SHANGHAI,))
    ent, inst = world.enterprise(SHANGHAI), world.institution(SHANGHAI)
    service_id = world.list_service(inst, Category.TESTING, 10_000 * YUAN)
    return issuer, ent, inst, program_id, service_id


def _order(service_id: int, program_id: int, request_id: str) -> OrderCreate:
    return OrderCreate(
        service_id=service_id,
        program_id=program_id,
        units=5_000 * YUAN,
        own_funds=5_000 * YUAN,
        request_id=request_id,
    )


def _delivered_order(world: World, client: VoucherClient) -> tuple[Org, Org, int]:
    issuer, ent, inst, program_id, service_id = _setup(world)
    world.issue(issuer, program_id, ent, 5_000 * YUAN)
    world.deposit(ent, 5_000 * YUAN)
    order = client.orders.place(ent.account, _order(service_id, program_id, "o-1"))
    world.deliver(inst, order.id)
    return ent, inst, order.id


def test_confirm_three_times_after_a_timeout_settles_once(
    world: World, flaky: TimesOutOnce
) -> None:
    ent, inst, order_id = _delivered_order(world, VoucherClient(world.p, transact))
    client = VoucherClient(world.p, flaky)
    before = world.balance(inst)
    first = client.orders.confirm(ent.account, order_id)  # times out, then found on chain
    second = client.orders.confirm(ent.account, order_id)
    third = client.orders.confirm(ent.account, order_id)
    assert world.balance(inst) - before == 10_000 * YUAN
    assert first.tx.tx_hash == second.tx.tx_hash == third.tx.tx_hash
    assert second.tx.replayed and third.tx.replayed
    assert flaky.sent == 1
    settled = world.p.orders.events.OrderSettled.get_logs(
        from_block=0, argument_filters={"orderId": order_id}
    )
    assert len(settled) == 1


def test_place_retried_with_the_same_request_id_places_once(
    world: World, flaky: TimesOutOnce
) -> None:
    issuer, ent, _, program_id, service_id = _setup(world)
    world.issue(issuer, program_id, ent, 10_000 * YUAN)
    world.deposit(ent, 10_000 * YUAN)
    client = VoucherClient(world.p, flaky)
    order = _order(service_id, program_id, "place-once")
    first = client.orders.place(ent.account, order)  # times out, found by request id
    again = client.orders.place(ent.account, order)
    assert first.id == again.id and again.tx is not None and again.tx.replayed
    assert world.vouchers(ent, program_id) == 5_000 * YUAN
    assert world.balance(ent) == 5_000 * YUAN
    assert int(world.p.orders.functions.orderCount().call()) == 1
    assert flaky.sent == 1


def test_issue_retried_with_the_same_request_id_mints_once(
    world: World, flaky: TimesOutOnce
) -> None:
    issuer, ent, _, program_id, _ = _setup(world)
    client = VoucherClient(world.p, flaky)
    results = [
        client.programs.issue(issuer.account, program_id, ent.id, 1_000 * YUAN, "issue-once")
        for _ in range(3)
    ]
    assert world.vouchers(ent, program_id) == 1_000 * YUAN
    assert len({r.tx.tx_hash for r in results}) == 1
    assert all(r.tx.replayed for r in results[1:])
    assert flaky.sent == 1


def test_a_different_request_id_is_a_new_operation(world: World) -> None:
    issuer, ent, _, program_id, _ = _setup(world)
    client = VoucherClient(world.p, transact)
    client.programs.issue(issuer.account, program_id, ent.id, 1_000 * YUAN, "a")
    client.programs.issue(issuer.account, program_id, ent.id, 1_000 * YUAN, "b")
    assert world.vouchers(ent, program_id) == 2_000 * YUAN


def test_apply_and_approve_retried_issue_once(world: World, flaky: TimesOutOnce) -> None:
    issuer, ent, _, program_id, _ = _setup(world)
    client = VoucherClient(world.p, transact)
    app = client.programs.apply(ent.account, program_id, 3_000 * YUAN, "apply-1")
    assert client.programs.apply(ent.account, program_id, 3_000 * YUAN, "apply-1").id == app.id
    flaky_client = VoucherClient(world.p, flaky)
    first = flaky_client.programs.approve(issuer.account, app.id)
    second = flaky_client.programs.approve(issuer.account, app.id)
    assert first.tx.tx_hash == second.tx.tx_hash
    assert world.vouchers(ent, program_id) == 3_000 * YUAN


def test_a_retry_after_the_enterprise_was_frozen_returns_the_first_settlement(
    world: World,
) -> None:
    # order operations send first and look after a refusal (the contract refuses a repeat):
    # a repeat that meets another refusal first must still find the operation done
    client = VoucherClient(world.p, transact)
    ent, inst, order_id = _delivered_order(world, client)
    before = world.balance(inst)
    first = client.orders.confirm(ent.account, order_id)
    world.send(world.p.registry.functions.freeze(ent.id, 7), world.governor)
    again = client.orders.confirm(ent.account, order_id)
    assert again.tx is not None and again.tx.replayed
    assert first.tx is not None and again.tx.tx_hash == first.tx.tx_hash
    assert world.balance(inst) - before == 10_000 * YUAN
    order = client.orders.get(order_id)
    placed = client.orders.place(ent.account, _order(order.service_id, order.program_id, "o-1"))
    assert placed.id == order_id and placed.tx is not None and placed.tx.replayed

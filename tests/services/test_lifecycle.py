"""The protocol's scenarios again, through the typed services layer."""

from __future__ import annotations

from web3 import Web3

from tests.world import BEIJING, CHANGXING, SHANGHAI, SHANGHAI_PUDONG, YUAN, Org, World, reverts
from voucher_chain.contracts import (
    Category,
    KindMask,
    OrderState,
    OrgKind,
    OrgStatus,
    ProgramKind,
    SettlementMethod,
)
from voucher_chain.services import (
    DisputeResolution,
    Order,
    OrderCreate,
    OrganisationCreate,
    ProgramCreate,
    ServiceCreate,
    VoucherClient,
)


def _program(world: World, client: VoucherClient, region: int, **terms: object) -> tuple[str, int]:
    issuer = world.issuer(region)
    finance = world.finance(region)
    t = world.terms(finance)
    create = ProgramCreate(
        fiscal_year=t.fiscal_year,
        finance_org=finance.id,
        issue_start=t.issue_start,
        issue_end=t.issue_end,
        expiry=t.expiry,
        settlement_deadline=t.settlement_deadline,
        **terms,  # type: ignore[arg-type]
    )
    program = client.programs.create(issuer.account, create)
    world.deposit(finance, 1_000_000 * YUAN)
    client.programs.fund(finance.account, program.id, 1_000_000 * YUAN)
    return issuer.account, program.id


def _order(
    client: VoucherClient,
    ent: Org,
    inst: Org,
    program_id: int,
    service: ServiceCreate,
    request_id: str,
) -> Order:
    """``inst`` lists ``service``; ``ent`` orders it, paying half in ``program_id``'s vouchers."""
    listed = client.catalogue.list_service(inst.account, service)
    half = service.price // 2
    return client.orders.place(
        ent.account,
        OrderCreate(
            service_id=listed.id,
            program_id=program_id,
            units=half,
            own_funds=half,
            request_id=request_id,
        ),
    )


def test_register_and_read_an_organisation(world: World, client: VoucherClient) -> None:
    account = world.new_account()
    org = client.registry.register(
        world.governor.account,
        OrganisationCreate(
            kind=OrgKind.ENTERPRISE,
            region=SHANGHAI_PUDONG,
            credit_code="91310115MA1K3YJ12X",
            employees=18,
            industry=6510,
            account=account,
        ),
    )
    assert org.kind == OrgKind.ENTERPRISE and org.status == OrgStatus.ACTIVE
    assert org.accounts == [account] and org.employees == 18
    assert org.credit_code_hash == Web3.keccak(text="91310115MA1K3YJ12X").to_0x_hex()
    assert client.registry.org_of(account) == org.id


def test_full_order_through_services_pays_at_confirmation(
    world: World, client: VoucherClient
) -> None:
    issuer, program_id = _program(
        world, client, CHANGXING, spend_regions=[CHANGXING, SHANGHAI], eligible_regions=[CHANGXING]
    )
    ent = world.enterprise(CHANGXING)
    inst = world.institution(SHANGHAI_PUDONG)
    world.deposit(ent, 10_000 * YUAN)
    issued = client.programs.issue(issuer, program_id, ent.id, 10_000 * YUAN, "issue-1")
    assert issued.value == 10_000 * YUAN and not issued.tx.replayed
    [balance] = client.programs.balances(ent.account)
    assert balance.program_id == program_id and balance.value == 10_000 * YUAN
    assert balance.spend_regions == [CHANGXING, SHANGHAI]

    emc = ServiceCreate(category=Category.TESTING, price=20_000 * YUAN, name="EMC")
    order = _order(client, ent, inst, program_id, emc, "order-1")
    assert order.state == OrderState.PLACED and order.price == 20_000 * YUAN
    client.orders.accept(inst.account, order.id)
    client.orders.deliver(inst.account, order.id, Web3.keccak(text="report"))
    before = client.money.balance(inst.account)
    settlement = client.orders.confirm(ent.account, order.id)
    assert settlement.method == SettlementMethod.CONFIRMED
    assert settlement.voucher_value == 10_000 * YUAN and settlement.own_funds == 10_000 * YUAN
    assert client.money.balance(inst.account) - before == 20_000 * YUAN
    [recorded] = client.orders.settlements(inst.id)
    assert recorded.order_id == order.id and recorded.tx.tx_hash == settlement.tx.tx_hash
    budget = client.programs.budget(program_id)
    assert budget.paid == 10_000 * YUAN and budget.escrowed == 990_000 * YUAN
    assert [o.id for o in client.orders.find(org_id=inst.id, state=OrderState.SETTLED)] == [
        order.id
    ]


def test_cross_region_refused_through_services(world: World, client: VoucherClient) -> None:
    issuer, program_id = _program(
        world, client, BEIJING, face_value=5_000 * YUAN, max_units=40, spend_regions=[BEIJING]
    )
    ent = world.enterprise(BEIJING)
    inst = world.institution(SHANGHAI)
    client.programs.issue(issuer, program_id, ent.id, 2, "bj-1")
    world.deposit(ent, 10_000 * YUAN)
    service = client.catalogue.list_service(
        inst.account, ServiceCreate(category=Category.TESTING, price=20_000 * YUAN, name="EMC")
    )
    order = OrderCreate(
        service_id=service.id,
        program_id=program_id,
        units=2,
        own_funds=10_000 * YUAN,
        request_id="x",
    )
    with reverts("ProgramRegionNotAllowed", programId=program_id, institutionRegion=SHANGHAI):
        client.orders.place(ent.account, order)


def test_dispute_split_through_services(world: World, client: VoucherClient) -> None:
    issuer, program_id = _program(world, client, SHANGHAI, spend_regions=[SHANGHAI])
    ent = world.enterprise(SHANGHAI)
    inst = world.institution(SHANGHAI)
    client.programs.issue(issuer, program_id, ent.id, 5_000 * YUAN, "i")
    world.deposit(ent, 5_000 * YUAN)
    rd = ServiceCreate(category=Category.COOPERATIVE_RD, price=10_000 * YUAN, name="R&D")
    order = _order(client, ent, inst, program_id, rd, "o")
    client.orders.accept(inst.account, order.id)
    client.orders.dispute(ent.account, order.id, Web3.keccak(text="late"))
    resolved = client.orders.resolve(
        issuer, order.id, DisputeResolution(units=2_000 * YUAN, own_funds=1_000 * YUAN)
    )
    assert resolved.state == OrderState.RESOLVED
    assert client.money.balance(inst.account) == 3_000 * YUAN
    assert client.money.balance(ent.account) == 4_000 * YUAN
    assert world.vouchers(ent, program_id) == 3_000 * YUAN


def test_a_confirm_reports_the_reward_its_own_transaction_paid(
    world: World, client: VoucherClient
) -> None:
    """The settlement returned by ``confirm`` counts the rewards from the confirm's receipt;
    the institution's settlements, read later from the chain, say the same."""
    issuer, vouchers = _program(world, client, SHANGHAI)
    rewarder, reward = _program(
        world,
        client,
        SHANGHAI,
        kind=ProgramKind.REWARD,
        share_bps=1_000,
        categories=Category.mask(Category.TESTING),
        eligible_kinds=int(KindMask.ENTERPRISE),
    )
    ent, inst = world.enterprise(SHANGHAI_PUDONG), world.institution(SHANGHAI_PUDONG)
    client.programs.enroll(rewarder, reward, inst.id)
    world.deposit(ent, 10_000 * YUAN)
    client.programs.issue(issuer, vouchers, ent.id, 10_000 * YUAN, "reward-issue")
    emc = ServiceCreate(category=Category.TESTING, price=20_000 * YUAN, name="EMC")
    order = _order(client, ent, inst, vouchers, emc, "reward-order")
    client.orders.accept(inst.account, order.id)
    client.orders.deliver(inst.account, order.id, Web3.keccak(text="report"))
    settlement = client.orders.confirm(ent.account, order.id)
    assert settlement.rewards == 2_000 * YUAN  # 10 % of the ¥20,000 paid
    [recorded] = client.orders.settlements(inst.id)
    assert recorded.rewards == settlement.rewards
    assert recorded.tx.tx_hash == settlement.tx.tx_hash

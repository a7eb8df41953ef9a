"""A sandbox: the protocol deployed on an in-process py-evm chain, with helpers that drive it the
way its users would (register organisations, move money, create programs, issue, order, settle).

The demo (`voucher-chain demo`), the gas report and the contract tests all use it. Every helper
sends real transactions through :func:`voucher_chain.contracts.transact`, so a revert surfaces as
:class:`voucher_chain.ContractRevert` exactly as in production code.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from typing import Protocol as Protocol_

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import EventData, RPCEndpoint, TxReceipt

from voucher_chain.contracts import (
    Category,
    OrgKind,
    ProgramTerms,
    Protocol,
    call,
    deploy_protocol,
    transact,
)
from voucher_chain.contracts.deploy import DEV_GOVERNOR_CODE

DAY = 24 * 3600
YUAN = 100  # fen

# GB/T 2260 codes used across the tests
BEIJING = 110000
BEIJING_HAIDIAN = 110108
SHANGHAI = 310000
SHANGHAI_PUDONG = 310115
ZHEJIANG = 330000
HUZHOU = 330500
CHANGXING = 330522
HANGZHOU = 330100
WUHAN = 420100


@dataclass(frozen=True)
class Org:
    """A registered organisation and the account that acts for it."""

    id: int
    kind: OrgKind
    region: int
    account: str
    vault: str


class ChainControl(Protocol_):
    """What tests need of a development chain beyond JSON-RPC: snapshots and time travel.

    ``EthereumTester`` has these methods; :class:`RpcChainControl` offers them over the dev
    JSON-RPC methods of the embedded node (and of hardhat and anvil).
    """

    def take_snapshot(self) -> int: ...

    def revert_to_snapshot(self, snapshot_id: int, /) -> Any: ...

    def time_travel(self, timestamp: int, /) -> Any: ...


class RpcChainControl:
    """:class:`ChainControl` over the dev methods ``evm_snapshot``, ``evm_revert`` and
    ``evm_setNextBlockTimestamp`` (the embedded node's, hardhat's and anvil's)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(RPCEndpoint(method), params)
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response["result"]

    def take_snapshot(self) -> int:
        return int(self._rpc("evm_snapshot", []), 16)

    def revert_to_snapshot(self, snapshot_id: int, /) -> None:
        if not self._rpc("evm_revert", [hex(snapshot_id)]):
            raise RuntimeError(f"no snapshot {snapshot_id}")

    def time_travel(self, timestamp: int, /) -> None:
        """The next block carries ``timestamp`` (as eth-tester's ``time_travel``)."""
        self._rpc("evm_setNextBlockTimestamp", [hex(timestamp)])


class World:
    """Helpers that drive the protocol the way its users would."""

    def __init__(self, *, tester: ChainControl, w3: Web3, protocol: Protocol) -> None:
        self.tester = tester
        self.w3 = w3
        self.p = protocol
        accounts = list(w3.eth.accounts)
        self.governor = Org(
            id=1,
            kind=OrgKind.GOVERNOR,
            region=110000,
            account=accounts[0],
            vault=call(protocol.registry.functions.vaultOf(1)),
        )
        self._free_accounts: Iterator[str] = iter(accounts[1:])
        self._codes = itertools.count(1)
        self._requests = itertools.count(1)
        self._bank: Org | None = None

    # -- chain ------------------------------------------------------------------------------------

    def new_account(self) -> str:
        """An unused, funded, unregistered account."""
        return next(self._free_accounts)

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        """Moves chain time forward by ``seconds`` (mines a block)."""
        self.tester.time_travel(self.now() + seconds)

    def send(self, fn: ContractFunction, sender: Org | str) -> TxReceipt:
        return transact(fn, sender.account if isinstance(sender, Org) else sender)

    def events(self, receipt: TxReceipt, contract: Contract, name: str) -> list[EventData]:
        return list(contract.events[name]().process_receipt(receipt, errors=DISCARD))

    def event(self, receipt: TxReceipt, contract: Contract, name: str) -> dict[str, Any]:
        found = self.events(receipt, contract, name)
        assert len(found) == 1, f"expected one {name}, got {len(found)}"
        return dict(found[0]["args"])

    def request_id(self) -> bytes:
        return Web3.keccak(text=f"request-{next(self._requests)}")

    # -- organisations ----------------------------------------------------------------------------

    def register(
        self,
        kind: OrgKind,
        region: int,
        *,
        employees: int = 10,
        industry: int = 6510,
        affiliation: bytes = b"\x00" * 32,
        registrar: Org | None = None,
        account: str | None = None,
    ) -> Org:
        account = account or self.new_account()
        code = Web3.keccak(text=f"91110000{next(self._codes):010d}")
        receipt = self.send(
            self.p.registry.functions.registerOrganisation(
                int(kind), region, code, employees, industry, affiliation, account
            ),
            registrar or self.governor,
        )
        args = self.event(receipt, self.p.registry, "OrganisationRegistered")
        return Org(id=args["orgId"], kind=kind, region=region, account=account, vault=args["vault"])

    def issuer(self, region: int) -> Org:
        return self.register(OrgKind.ISSUER, region)

    def finance(self, region: int) -> Org:
        return self.register(OrgKind.FINANCE, region)

    def regulator(self) -> Org:
        return self.register(OrgKind.REGULATOR, 110000)

    def bank(self) -> Org:
        if self._bank is None:
            self._bank = self.register(OrgKind.BANK, 110000)
        return self._bank

    def enterprise(
        self,
        region: int,
        *,
        employees: int = 20,
        kind: OrgKind = OrgKind.ENTERPRISE,
        affiliation: bytes = b"\x00" * 32,
    ) -> Org:
        return self.register(kind, region, employees=employees, affiliation=affiliation)

    def institution(
        self,
        region: int,
        *,
        categories: int | None = None,
        affiliation: bytes = b"\x00" * 32,
    ) -> Org:
        """An institution accredited (by the governor) for ``categories`` (all by default)."""
        inst = self.register(OrgKind.INSTITUTION, region, employees=100, affiliation=affiliation)
        mask = Category.mask() if categories is None else categories
        if mask:
            self.send(self.p.catalogue.functions.accredit(inst.id, mask), self.governor)
        return inst

    # -- money ------------------------------------------------------------------------------------

    def deposit(self, org: Org, amount: int) -> None:
        """The bank mints ``amount`` fen into ``org``'s vault against a deposit."""
        ref = Web3.keccak(text=f"deposit-{next(self._requests)}")
        self.send(self.p.settlement.functions.mint(org.account, amount, ref), self.bank())

    def balance(self, org: Org | str) -> int:
        who = org.account if isinstance(org, Org) else org
        return int(call(self.p.settlement.functions.balanceOf(who)))

    def vouchers(self, org: Org | str, program_id: int) -> int:
        who = org.account if isinstance(org, Org) else org
        return int(call(self.p.vouchers.functions.balanceOf(who, program_id)))

    # -- programs ---------------------------------------------------------------------------------

    def terms(self, finance: Org, **overrides: Any) -> ProgramTerms:
        """Terms of an open program: issuance now for 180 days, expiry at 300, deadline at 330."""
        now = self.now()
        base = ProgramTerms(
            fiscal_year=2026,
            finance_org=finance.id,
            issue_start=now,
            issue_end=now + 180 * DAY,
            expiry=now + 300 * DAY,
            settlement_deadline=now + 330 * DAY,
        )
        return replace(base, **overrides)

    def create_program(self, issuer: Org, terms: ProgramTerms) -> int:
        receipt = self.send(self.p.programs.functions.createProgram(terms.as_abi()), issuer)
        return int(self.event(receipt, self.p.programs, "ProgramCreated")["programId"])

    def fund(self, finance: Org, program_id: int, amount: int) -> TxReceipt:
        """Deposits ``amount`` fen to finance, then escrows it in the program."""
        self.deposit(finance, amount)
        return self.send(self.p.programs.functions.fund(program_id, amount), finance)

    def program(
        self, issuer: Org, finance: Org, budget: int = 1_000_000 * YUAN, **overrides: Any
    ) -> int:
        """A created and funded program."""
        program_id = self.create_program(issuer, self.terms(finance, **overrides))
        if budget:
            self.fund(finance, program_id, budget)
        return program_id

    def issue(self, issuer: Org, program_id: int, ent: Org, units: int) -> TxReceipt:
        fn = self.p.programs.functions.issue(program_id, ent.id, units, self.request_id())
        return self.send(fn, issuer)

    # -- catalogue and orders ---------------------------------------------------------------------

    def list_service(
        self, inst: Org, category: Category = Category.TESTING, price: int = 10_000 * YUAN
    ) -> int:
        fn = self.p.catalogue.functions.listService(
            int(category), price, f"service {category.name}"
        )
        receipt = self.send(fn, inst)
        return int(self.event(receipt, self.p.catalogue, "ServiceListed")["serviceId"])

    def place(
        self,
        ent: Org,
        service_id: int,
        program_id: int,
        units: int,
        own_funds: int,
        *,
        quantity: int = 1,
        request_id: bytes | None = None,
    ) -> int:
        fn = self.p.orders.functions.placeOrder(
            service_id, quantity, program_id, units, own_funds, request_id or self.request_id()
        )
        receipt = self.send(fn, ent)
        return int(self.event(receipt, self.p.orders, "OrderPlaced")["orderId"])

    def deliver(self, inst: Org, order_id: int) -> TxReceipt:
        self.send(self.p.orders.functions.accept(order_id), inst)
        digest = Web3.keccak(text=f"deliverable of order {order_id}")
        return self.send(self.p.orders.functions.deliver(order_id, digest), inst)

    def order(self, order_id: int) -> Any:
        return call(self.p.orders.functions.order(order_id))

    def state(self, program_id: int) -> Any:
        return call(self.p.programs.functions.state(program_id))


def in_process_chain(accounts: int = 80) -> tuple[EthereumTester, Web3]:
    """A fresh in-memory py-evm chain with ``accounts`` funded, unlocked accounts."""
    backend = PyEVMBackend(genesis_state=PyEVMBackend.generate_genesis_state(num_accounts=accounts))
    tester = EthereumTester(backend)
    return tester, Web3(EthereumTesterProvider(tester))


def sandbox(accounts: int = 80) -> World:
    """A fresh chain with the protocol deployed by its first account, the governor."""
    tester, w3 = in_process_chain(accounts)
    protocol = deploy_protocol(
        w3, w3.eth.accounts[0], governor_credit_code_hash=Web3.keccak(text=DEV_GOVERNOR_CODE)
    )
    return World(tester=tester, w3=w3, protocol=protocol)

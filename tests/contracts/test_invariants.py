"""Conservation laws under random operations: a hypothesis state machine over the real contracts.

A fixed cast -- two issuers with their finance bureaus (Beijing, Zhejiang), four enterprises of
different regions and sizes incl. a start-up team, three institutions (Beijing, Shanghai, Wuhan)
with services in several categories, a bank, a regulator, and three funded programs (Beijing's
¥5,000 vouchers, a Zhejiang quota, Zhejiang's reward) -- is set up once; every example starts
from that chain snapshot. Rules fire random operations, valid or
not: an invalid one must revert with a protocol error (any other exception fails the test), and
one whose preconditions all hold must succeed. After every step that changed the chain, DESIGN.md
§3's conservation laws are checked against contract state only.

The governor also pauses the protocol, and enterprises and institutions are suspended or frozen
(and reinstated or unfrozen): while paused every value-moving step reverts ``ProtocolPaused`` and
no vault or escrow balance changes; a suspended or frozen organisation cannot act
(``ProtocolOrgNotActive``) but is still paid and refunded, and its money never decreases. The
escrows pay through ``SettlementToken.escrowPay``/``escrowPull``, which check neither: their entry
points must (docs/security.md, "Escrow payments").
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import pytest
from eth.exceptions import Revert
from eth.vm.message import Message
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_tester import EthereumTester
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from web3 import Web3
from web3.contract import Contract

from tests.world import (
    BEIJING,
    BEIJING_HAIDIAN,
    CHANGXING,
    DAY,
    SHANGHAI,
    SHANGHAI_PUDONG,
    WUHAN,
    YUAN,
    ZHEJIANG,
    Org,
    World,
    pyevm_only,
    reverts,
)
from voucher_chain import ContractRevert
from voucher_chain.contracts import (
    Category,
    KindMask,
    OrderState,
    OrgKind,
    OrgStatus,
    ProgramKind,
    ProgramTerms,
    Protocol,
)
from voucher_chain.contracts.revert import protocol_error_decoder
from voucher_chain.sandbox import ChainControl

# 60 examples of 50 steps: ~3,000 steps, reproducible in CI (about 1.5 minutes here)
CI = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
GAS = 10_000_000
FACE = 5_000 * YUAN  # Beijing's fixed face value
MAX_PROGRAMS = 7
OPEN = (OrderState.PLACED, OrderState.ACCEPTED, OrderState.DELIVERED, OrderState.DISPUTED)
NEXT = {  # the steps an open order may take, the usual ones more often
    OrderState.PLACED: ["accept", "accept", "accept", "cancel", "reject", "expire"],
    OrderState.ACCEPTED: ["deliver", "deliver", "deliver", "reject", "dispute", "expire"],
    OrderState.DELIVERED: ["confirm", "claim", "dispute"],
    OrderState.DISPUTED: ["resolveDispute"],
}
PARTY = {  # whose step it is
    **dict.fromkeys(["accept", "reject", "deliver", "claim"], "inst"),
    **dict.fromkeys(["cancel", "dispute", "confirm"], "ent"),
    **{"expire": "any", "resolveDispute": "resolver"},
}
ACTIONS = sorted(PARTY)
PAYEE = {  # whom the other party's next step of an open order may pay or refund
    OrderState.PLACED: "enterpriseOrg",  # reject, expire
    OrderState.ACCEPTED: "enterpriseOrg",  # reject, expire
    OrderState.DELIVERED: "institutionOrg",  # confirm
    OrderState.DISPUTED: "institutionOrg",  # resolveDispute (and the enterprise)
}
ROLE = {**PARTY, "applyForVouchers": "ent", "placeOrder": "ent"}  # whose step it is, of all
UNCHECKED = {"safeTransferFrom", "safeBatchTransferFrom"}  # always refused, before any check
PAUSE_FREE = {*UNCHECKED, "unpause", "freeze", "unfreeze"}  # what the pause does not stop
STATUS_CHANGES = {  # from which statuses, to which
    "suspend": ((OrgStatus.ACTIVE,), OrgStatus.SUSPENDED),
    "reinstate": ((OrgStatus.SUSPENDED,), OrgStatus.ACTIVE),
    "freeze": ((OrgStatus.ACTIVE, OrgStatus.SUSPENDED), OrgStatus.FROZEN),
    "unfreeze": ((OrgStatus.FROZEN,), OrgStatus.ACTIVE),
}
STATS: Counter[str] = Counter()


def _abi_type(param: Any) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_abi_type(c) for c in param['components'])}){kind[5:]}"
    return kind


def _matches(pattern: int, code: int) -> bool:
    """Regions.matches: 0 national, PP0000 a province, PPCC00 a prefecture, else one county."""
    for unit in (10_000, 100):
        if pattern % unit == 0:
            return pattern == 0 or code // unit == pattern // unit
    return code == pattern


class Chain:
    """Exact and fast access (gas estimation and web3 round trips would dominate the run).

    Views run directly on one py-evm state of the pending block. A transaction is dry-run there
    first -- a revert raises the decoded ``ContractRevert`` as ``contracts.transact`` does and
    mines nothing -- then sent with a fixed gas limit. Token balances are read from the tokens'
    OpenZeppelin ``_balances`` mappings (slot 0), as ``balanceOf`` costs a py-evm call into the
    registry each; the sum laws below fail if those slots were ever wrong.
    """

    def __init__(self, tester: EthereumTester) -> None:
        self.tester = tester
        self._abi: dict[tuple[str, str], tuple[bytes, list[str], list[str], Any]] = {}
        self._slots: dict[tuple[str, str, int | None], tuple[bytes, int]] = {}
        self.refresh()

    def refresh(self) -> None:
        self.state: Any = self.tester.backend.chain.get_vm().state

    @property
    def now(self) -> int:
        """The timestamp the next transaction executes at."""
        return int(self.state.timestamp)

    def _data(self, contract: Contract, name: str, args: Sequence[Any]) -> bytes:
        key = (contract.address, name)
        if key not in self._abi:
            abi = next(f for f in contract.abi if f.get("name") == name and f["type"] == "function")
            inputs = [_abi_type(p) for p in abi["inputs"]]
            selector = function_signature_to_4byte_selector(f"{name}({','.join(inputs)})")
            self._abi[key] = (selector, inputs, [_abi_type(p) for p in abi["outputs"]], abi)
        selector, inputs, _, _ = self._abi[key]
        return selector + abi_encode(inputs, list(args))

    def _run(self, contract: Contract, data: bytes, sender: str) -> bytes:
        to, origin = to_canonical_address(contract.address), to_canonical_address(sender)
        msg = Message(GAS, to, origin, 0, data, self.state.get_code(to))
        ctx = self.state.get_transaction_context_class()(gas_price=0, origin=origin)
        snapshot = self.state.snapshot()
        try:
            comp = self.state.computation_class.apply_message(self.state, msg, ctx)
        finally:
            self.state.revert(snapshot)
        if not comp.is_error:
            return bytes(comp.output)
        if isinstance(comp.error, Revert):
            raise protocol_error_decoder().decode(bytes(comp.error.args[0]))
        raise AssertionError(f"call failed: {comp.error!r}")

    def read(self, contract: Contract, name: str, *args: Any) -> Any:
        """A view's value; a struct as a dict by field name."""
        output = self._run(contract, self._data(contract, name, args), contract.address)
        _, _, types, abi = self._abi[(contract.address, name)]
        values = abi_decode(types, output)
        if abi["outputs"][0]["type"] == "tuple":
            fields = (c["name"] for c in abi["outputs"][0]["components"])
            return dict(zip(fields, values[0], strict=True))
        return values[0] if len(values) == 1 else values

    def send(
        self, contract: Contract, name: str, args: Sequence[Any], sender: str, dry: bool = True
    ) -> None:
        data = self._data(contract, name, args)
        if dry:
            self._run(contract, data, sender)
        tx = {"from": sender, "to": contract.address, "data": "0x" + data.hex(), "gas": GAS}
        fees = {"value": 0, "max_fee_per_gas": 10**9, "max_priority_fee_per_gas": 10**9}
        receipt = self.tester.get_transaction_receipt(self.tester.send_transaction(tx | fees))
        if receipt["status"] != 1:  # replay it on the state it failed on, for the reason
            self._run(contract, data, sender)
            raise AssertionError(f"{name}{tuple(args)} failed on chain, not in its dry run")
        self.refresh()

    def travel(self, seconds: int) -> None:
        self.tester.time_travel(self.now + seconds)
        self.refresh()

    def _stored(self, token: Contract, holder: str, program_id: int | None = None) -> int:
        key = (token.address, holder, program_id)
        if key not in self._slots:
            slot = keccak(abi_encode(["address", "uint256"], [holder, 0]))  # _balances[holder]
            if program_id is not None:  # _balances[program_id][holder]
                inner = keccak(abi_encode(["uint256", "uint256"], [program_id, 0]))
                slot = keccak(abi_encode(["address", "bytes32"], [holder, inner]))
            self._slots[key] = (to_canonical_address(token.address), int.from_bytes(slot))
        return int(self.state.get_storage(*self._slots[key]))

    def money(self, token: Contract, holder: str) -> int:
        return self._stored(token, holder)

    def vouchers(self, token: Contract, holder: str, program_id: int) -> int:
        return self._stored(token, holder, program_id)


def program_terms(
    finance: Org, form: str, share: int, spread: int, national: bool, now: int
) -> ProgramTerms:
    """Terms of a fixed-face, quota or reward program of the finance bureau's region."""
    home = finance.region
    return ProgramTerms(
        fiscal_year=2026,
        finance_org=finance.id,
        issue_start=now,
        issue_end=now + 15 * DAY,
        expiry=now + 30 * DAY,
        settlement_deadline=now + 40 * DAY,
        kind=ProgramKind.REWARD if form == "reward" else ProgramKind.VOUCHER,
        face_value=FACE if form == "fixed" else 1,
        max_units=40 if form == "fixed" else 2**32 - 1,
        per_holder_cap=100_000 * YUAN if spread % 2 else 0,
        share_bps=share,
        full_cover_threshold=3_000 * YUAN if spread == 1 else 0,
        categories=Category.mask(Category.TESTING) if spread == 2 else Category.mask(),
        spend_regions=[
            (home,),
            (CHANGXING, SHANGHAI) if home == ZHEJIANG else (home, SHANGHAI),
            (0,),
        ][spread],
        eligible_regions=(0,) if national else (home,),
        eligible_kinds=int(KindMask.ENTERPRISE if spread == 1 else KindMask.VOUCHER_HOLDERS),
        max_employees=100 if spread == 2 else 0,
        confirm_window=(2 * DAY, 0, DAY // 2)[spread],  # silent confirmation
    )


@dataclass(frozen=True)
class Service:
    id: int
    institution: Org
    category: Category
    price: int


@dataclass(frozen=True)
class Cast:
    p: Protocol
    chain: Chain
    governor: Org
    bank: Org
    regulator: Org
    issuers: tuple[Org, Org]
    finances: tuple[Org, Org]
    enterprises: tuple[Org, ...]
    employees: tuple[int, ...]  # of the enterprises
    institutions: tuple[Org, ...]
    services: tuple[Service, ...]
    individuals: tuple[str, ...]  # people's addresses: never registered, never holding anything
    start: int  # every example runs from this chain time

    @property
    def orgs(self) -> tuple[Org, ...]:
        parties = (*self.issuers, *self.finances, *self.enterprises, *self.institutions)
        return (self.governor, self.bank, self.regulator, *parties)


def build_cast(p: Protocol, chain: Chain, accounts: Sequence[str]) -> Cast:
    fresh, codes = iter(accounts[1:]), itertools.count(1)
    gov = accounts[0]
    group = Web3.keccak(text="长兴—上海 affiliation group")

    def org(kind: OrgKind, region: int, employees: int = 10, affiliation: bytes = bytes(32)) -> Org:
        account, code = next(fresh), Web3.keccak(text=f"invariants-{next(codes)}")
        args = [int(kind), region, code, employees, 6510, affiliation, account]
        chain.send(p.registry, "registerOrganisation", args, gov)
        org_id = chain.read(p.registry, "organisationCount")
        vault = Web3.to_checksum_address(chain.read(p.registry, "vaultOf", org_id))
        return Org(org_id, kind, region, account, vault)

    def institution(region: int, mask: int, affiliation: bytes = bytes(32)) -> Org:
        inst = org(OrgKind.INSTITUTION, region, 100, affiliation)
        chain.send(p.catalogue, "accredit", [inst.id, mask], gov)
        return inst

    vault = Web3.to_checksum_address(chain.read(p.registry, "vaultOf", 1))
    governor = Org(1, OrgKind.GOVERNOR, BEIJING, gov, vault)
    bank, regulator = org(OrgKind.BANK, BEIJING), org(OrgKind.REGULATOR, BEIJING)
    issuers = (org(OrgKind.ISSUER, BEIJING), org(OrgKind.ISSUER, ZHEJIANG))
    finances = (org(OrgKind.FINANCE, BEIJING), org(OrgKind.FINANCE, ZHEJIANG))
    enterprises = (
        org(OrgKind.ENTERPRISE, BEIJING_HAIDIAN, 20),
        org(OrgKind.STARTUP_TEAM, BEIJING, 3),
        org(OrgKind.ENTERPRISE, SHANGHAI_PUDONG, 180),
        org(OrgKind.ENTERPRISE, CHANGXING, 45, group),
    )
    bj_lab = institution(BEIJING_HAIDIAN, Category.mask())
    sh_platform = institution(SHANGHAI_PUDONG, Category.mask(), group)
    wh_institute = institution(WUHAN, Category.mask(Category.TESTING, Category.NOVELTY_SEARCH))
    services = []
    for inst, category, yuan in [
        (bj_lab, Category.TESTING, 12_000),
        (bj_lab, Category.COOPERATIVE_RD, 30_000),
        (sh_platform, Category.RD_DESIGN, 8_000),
        (sh_platform, Category.COMMISSIONED_DEVELOPMENT, 50_000),
        (wh_institute, Category.TESTING, 5_000),
        (wh_institute, Category.NOVELTY_SEARCH, 1_500),
    ]:
        chain.send(p.catalogue, "listService", [category, yuan * YUAN, "服务"], inst.account)
        services.append(
            Service(chain.read(p.catalogue, "serviceCount"), inst, category, yuan * YUAN)
        )
    for i, holder in enumerate((*finances, *enterprises)):
        mint = [holder.account, 10_000_000 * YUAN, keccak(i.to_bytes(32))]
        chain.send(p.settlement, "mint", mint, bank.account)
    # every example starts with Beijing's ¥5,000 vouchers, a Zhejiang quota for Changxing and
    # Shanghai, and Zhejiang's reward for the institutions serving enterprises, all enrolled
    now = chain.now
    for i, terms, grants in [
        (0, program_terms(finances[0], "fixed", 5_000, 0, False, now), [(0, 20), (1, 10)]),
        (1, program_terms(finances[1], "quota", 5_000, 1, True, now), [(2, 6 * 10**6), (3, 10**6)]),
        (
            1,
            replace(program_terms(finances[1], "reward", 1_000, 0, True, now), spend_regions=(0,)),
            [],
        ),
    ]:
        chain.send(p.programs, "createProgram", [terms.as_abi()], issuers[i].account)
        pid = chain.read(p.programs, "programCount")
        chain.send(p.programs, "fund", [pid, 1_000_000 * YUAN], finances[i].account)
        for e, units in grants:
            args = [pid, enterprises[e].id, units, keccak(bytes([pid, e]))]
            chain.send(p.programs, "issue", args, issuers[i].account)
        if terms.kind == ProgramKind.REWARD:
            for inst in (bj_lab, sh_platform, wh_institute):
                chain.send(p.programs, "enrollBeneficiary", [pid, inst.id], issuers[i].account)
    return Cast(
        p=p,
        chain=chain,
        governor=governor,
        bank=bank,
        regulator=regulator,
        issuers=issuers,
        finances=finances,
        enterprises=enterprises,
        employees=(20, 3, 180, 45),
        institutions=(bj_lab, sh_platform, wh_institute),
        services=tuple(services),
        individuals=(next(fresh), next(fresh)),
        start=chain.now + DAY,
    )


@pytest.fixture
def cast(_chain: tuple[ChainControl, Web3, Protocol]) -> Iterator[Cast]:
    tester, w3, protocol = _chain
    assert isinstance(tester, EthereumTester)
    before = tester.take_snapshot()
    yield build_cast(protocol, Chain(tester), w3.eth.accounts)
    tester.revert_to_snapshot(before)


fraction = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
mostly = st.sampled_from([True, True, True, False])  # a valid operation, or else anything


class VoucherMachine(RuleBasedStateMachine):
    cast: ClassVar[Cast]

    def __init__(self) -> None:
        super().__init__()
        self.c, self.p, self.chain = self.cast, self.cast.p, self.cast.chain
        self.snapshot = self.chain.tester.take_snapshot()
        self.chain.refresh()
        self.chain.travel(self.c.start - self.chain.now)  # the same chain times in every run
        self.requests = itertools.count(1)
        self.terms: dict[int, dict[str, Any]] = {}  # immutable: read once per program
        self.states: dict[int, dict[str, Any]] = {}  # re-read by every check
        self.orders: dict[int, dict[str, Any]] = {}  # open ones re-read by every check
        self.checked = b""
        self.seen: dict[int, Any] = {}  # per program: its state and orders at the last check
        self.paused = False
        self.status: dict[int, OrgStatus] = {}  # the suspended or frozen organisations
        self.at_pause: list[int] = []  # every vault's and escrow's holdings when paused
        self.floors: dict[int, int] = {}  # an inactive organisation's money at the last check
        STATS["examples"] += 1

    def teardown(self) -> None:
        for pid, state in self.states.items():
            STATS["reward programs that paid"] += bool(self.terms[pid]["kind"] and state["paid"])
        self.chain.tester.revert_to_snapshot(self.snapshot)

    # -- helpers ----------------------------------------------------------------------------------

    def attempt(
        self,
        contract: Contract,
        fn: str,
        args: Sequence[Any],
        by: Org | str,
        *,
        must: bool = False,
        error: str | None = None,
    ) -> bool:
        """Sends ``fn``: a protocol revert is allowed unless ``must``; ``error`` is required.

        Both say what a live protocol does with active parties. The pause is checked first (the
        escrows' modifier, the token's ``_update``), then the actor: a suspended or frozen one
        cannot act, whatever else holds.
        """
        if self.paused and fn not in PAUSE_FREE:
            must, error = False, "ProtocolPaused"
            STATS["refused: paused"] += 1
        elif isinstance(by, Org) and by.id in self.status and fn not in UNCHECKED:
            must, error = False, self.refusal(contract, fn, by)
            STATS["refused: not active"] += 1
        try:
            account = by.account if isinstance(by, Org) else by
            self.chain.send(contract, fn, args, account, dry=not must)
        except ContractRevert as err:
            STATS[f"{fn} refused"] += 1
            assert not must, f"{fn}{tuple(args)} must succeed, got {err!r}"
            assert error in (None, err.name), f"{fn}: expected {error}, got {err!r}"
            return False
        assert error is None, f"{fn}{tuple(args)} must revert with {error}, but went through"
        STATS[f"{fn} ok"] += 1
        return True

    def refusal(self, contract: Contract, fn: str, by: Org) -> str:
        """The error that stops a suspended or frozen enterprise or institution doing ``fn``."""
        if contract.address == self.p.settlement.address:
            return "SettlementHolderNotActive"  # the token's own check of a payer
        own = "inst" if by.kind == OrgKind.INSTITUTION else "ent"
        if ROLE[fn] in (own, "any"):
            return "ProtocolOrgNotActive"
        return "ProtocolUnauthorizedAccount"  # its kind may not do it at all: checked first

    def request(self) -> bytes:
        return Web3.keccak(text=f"machine-request-{next(self.requests)}")

    def deposit(self, org: Org, amount: int) -> None:
        """Makes sure ``org`` holds ``amount``: the bank mints what is missing."""
        missing = amount - self.chain.money(self.p.settlement, org.vault)
        if missing > 0:
            args = [org.account, missing, self.request()]
            self.attempt(self.p.settlement, "mint", args, self.c.bank, must=True)

    def org(self, org_id: int) -> Org:
        return next(o for o in self.c.orgs if o.id == org_id)

    def issuer(self, pid: int) -> Org:
        return self.org(self.states[pid]["issuerOrg"])

    def programs(self, kind: ProgramKind | None = None, until: str = "") -> list[int]:
        """Programs of ``kind``; only those open now until their ``until`` time, if any are."""
        chosen = [pid for pid, t in sorted(self.terms.items()) if kind in (None, t["kind"])]
        now, t, s = self.chain.now, self.terms, self.states
        live = [
            p
            for p in chosen
            if until and not s[p]["closed"] and t[p]["issueStart"] <= now <= t[p][until]
        ]
        return live if until and live else chosen

    def eligible(self, pid: int, ent: Org) -> bool:
        t, size = self.terms[pid], self.c.employees[self.c.enterprises.index(ent)]
        return (
            bool(t["eligibleKinds"] >> ent.kind & 1)
            and any(_matches(r, ent.region) for r in t["eligibleRegions"])
            and (t["maxEmployees"] == 0 or size <= t["maxEmployees"])
        )

    def serves(self, pid: int, inst: Org, category: int | None = None) -> bool:
        t = self.terms[pid]
        return (category is None or bool(t["categories"] >> category & 1)) and any(
            _matches(r, inst.region) for r in t["spendRegions"]
        )

    # -- operations: each draws its own arguments, valid (mostly) or anything ---------------------

    def create(self, terms: ProgramTerms, budget: int) -> int:
        finance = self.org(terms.finance_org)
        issuer = self.c.issuers[self.c.finances.index(finance)]
        if not self.attempt(self.p.programs, "createProgram", [terms.as_abi()], issuer, must=True):
            return 0  # paused
        pid = int(self.chain.read(self.p.programs, "programCount"))
        self.terms[pid] = self.chain.read(self.p.programs, "terms", pid)
        self.states[pid] = self.chain.read(self.p.programs, "state", pid)
        if budget:
            self.deposit(finance, budget)
            self.attempt(self.p.programs, "fund", [pid, budget], finance, must=True)
        return pid

    def create_program(self, data: st.DataObject, right: bool) -> None:
        i = data.draw(st.integers(0, 1), "issuer")
        form = data.draw(st.sampled_from(["fixed", "quota", "reward"]), "form")
        share = data.draw(st.sampled_from([1_000, 5_000, 10_000]), "share")
        spread, national = data.draw(st.integers(0, 2), "spread"), data.draw(st.booleans())
        terms = program_terms(self.c.finances[i], form, share, spread, national, self.chain.now)
        if right:
            self.create(terms, data.draw(st.sampled_from([0, 200_000, 800_000])) * YUAN)
            return
        broken = [
            (replace(terms, categories=1 << 7 | 1), "ProgramInvalidCategories"),  # no hardware
            (replace(terms, share_bps=10_001), "ProgramInvalidShare"),
            (replace(terms, spend_regions=(99,)), "ProgramInvalidRegion"),
        ]
        bad, error = data.draw(st.sampled_from(broken), "broken terms")
        issuer = self.c.issuers[i]
        self.attempt(self.p.programs, "createProgram", [bad.as_abi()], issuer, error=error)

    def next_year_with_rollover(self, data: st.DataObject, right: bool) -> None:
        source = data.draw(st.sampled_from(self.programs()), "source")
        t, now = self.terms[source], self.chain.now
        terms = program_terms(self.org(t["financeOrg"]), "quota", t["shareBps"], 0, True, now)
        terms = replace(
            terms,
            kind=ProgramKind(t["kind"]),
            face_value=t["faceValue"],
            max_units=t["maxUnits"],
            fiscal_year=t["fiscalYear"] + right,
        )
        target = self.create(terms, data.draw(st.sampled_from([0, 100_000])) * YUAN)
        must = right and not self.states[source]["closed"]
        args = [source, target]
        self.attempt(self.p.programs, "setRollover", args, self.issuer(source), must=must)

    def top_up(self, data: st.DataObject, right: bool) -> None:
        pid = data.draw(st.sampled_from(self.programs()), "program")
        finance = self.org(self.terms[pid]["financeOrg"])
        if not right:
            finance = next(f for f in self.c.finances if f != finance)
        amount = data.draw(st.sampled_from([1, 50_000 * YUAN]), "amount")
        self.deposit(finance, amount)
        must = right and not self.states[pid]["closed"]
        self.attempt(self.p.programs, "fund", [pid, amount], finance, must=must)

    def ended(self) -> list[int]:
        now, t = self.chain.now, self.terms
        return [p for p in t if now > t[p]["settlementDeadline"] and not self.states[p]["closed"]]

    def close(self, data: st.DataObject, right: bool) -> None:
        ch, ended = self.chain, self.ended()
        rolling = [p for p in ended if self.states[p]["rolloverTo"]]  # next year's budget
        candidates = (rolling or ended) if right and ended else self.programs()
        pid = data.draw(st.sampled_from(candidates), "program")
        t, s = self.terms[pid], self.states[pid]
        finance, target = self.org(t["financeOrg"]), s["rolloverTo"]
        escrow = ch.read(self.p.programs, "escrowed", pid)
        funds = ch.money(self.p.settlement, finance.vault)
        rolled = target and ch.read(self.p.programs, "state", target)
        must = pid in ended and ch.read(self.p.orders, "openOrders", pid) == 0
        by = data.draw(st.sampled_from([finance, self.issuer(pid)]), "by")
        if not self.attempt(self.p.programs, "close", [pid], by, must=must):
            return
        # the budget cycle: exactly the unused escrow goes to finance, or to next year's program
        returned = ch.money(self.p.settlement, finance.vault) - funds
        if rolled and not rolled["closed"]:
            STATS["close rolled over"] += 1
            gained = ch.read(self.p.programs, "state", target)["rolledIn"] - rolled["rolledIn"]
            assert (gained, returned) == (escrow, 0), f"program {pid} rolled {gained} of {escrow}"
        else:
            assert returned == escrow, f"program {pid} returned {returned} of {escrow}"

    def enrol(self, data: st.DataObject, right: bool) -> None:
        pairs = [(p, i) for p in self.programs(ProgramKind.REWARD) for i in self.c.institutions]
        fits = [
            (p, i)
            for p, i in pairs
            if self.serves(p, i)
            and p not in self.chain.read(self.p.programs, "rewardProgramsOf", i.id)
        ]
        pid, inst = data.draw(st.sampled_from(fits if right and fits else pairs), "enrolment")
        self.attempt(self.p.programs, "enrollBeneficiary", [pid, inst.id], self.issuer(pid))

    def recipient(self, data: st.DataObject, right: bool) -> tuple[int, Org]:
        """A program in its issuance window and an eligible enterprise; or anything."""
        pid = data.draw(
            st.sampled_from(
                self.programs(ProgramKind.VOUCHER, "issueEnd") if right else self.programs()
            ),
            "program",
        )
        fits = [e for e in self.c.enterprises if self.eligible(pid, e)]
        return pid, data.draw(st.sampled_from(fits if right and fits else self.c.enterprises))

    def units(self, data: st.DataObject, pid: int) -> int:
        """Up to 25 fixed-face vouchers, or up to ¥120,000 of a quota (rarely above a cap)."""
        f = data.draw(fraction, "size")
        return max(1, round(f * f * (25 if self.terms[pid]["faceValue"] > 1 else 120_000 * YUAN)))

    def issue(self, data: st.DataObject, right: bool) -> None:
        pid, ent = self.recipient(data, right)
        args = [pid, ent.id, self.units(data, pid), self.request()]
        self.attempt(self.p.programs, "issue", args, self.issuer(pid))

    def apply_then_decide(self, data: st.DataObject, right: bool) -> None:
        pid, ent = self.recipient(data, right)
        args = [pid, self.units(data, pid), self.request()]
        if not self.attempt(self.p.programs, "applyForVouchers", args, ent):
            return
        app = self.chain.read(self.p.programs, "applicationCount")
        # it passed every check a moment ago, so the decision must go through
        fn, args = data.draw(
            st.sampled_from([("approveApplication", [app]), ("rejectApplication", [app, 1])])
        )
        self.attempt(self.p.programs, fn, args, self.issuer(pid), must=True)

    def revoke(self, data: st.DataObject, right: bool) -> None:
        pairs = [(pid, e) for pid in self.programs() for e in self.c.enterprises]
        holding = [(p, e) for p, e in pairs if self.chain.vouchers(self.p.vouchers, e.vault, p)]
        pid, ent = data.draw(st.sampled_from(holding if right and holding else pairs), "holder")
        held = self.chain.vouchers(self.p.vouchers, ent.vault, pid)
        units = max(1, round(data.draw(fraction, "share") * held * (0.5 if right else 1.5)))
        must = units <= held and not self.states[pid]["closed"]
        by = data.draw(st.sampled_from([self.issuer(pid), self.c.regulator]), "by")
        self.attempt(self.p.programs, "revoke", [pid, ent.id, units, 7], by, must=must)

    def place_order(self, data: st.DataObject, right: bool) -> None:
        """Vouchers plus the exact own funds for a service a program pays for, by a holder of
        its vouchers; or random vouchers and own funds for any service."""
        orders = [
            (p, e, s)
            for p in self.programs(ProgramKind.VOUCHER)
            for e in self.c.enterprises
            for s in self.c.services
        ]
        related = (self.c.enterprises[3], self.c.institutions[1])  # the affiliated pair
        now, t, v = self.chain.now, self.terms, self.p.vouchers
        held = {(p, e): self.chain.vouchers(v, e.vault, p) for p, e, _ in orders}
        fits = [
            (p, e, s)
            for p, e, s in orders
            if (e, s.institution) != related
            and t[p]["issueStart"] <= now <= t[p]["expiry"]
            and not self.states[p]["closed"]
            and self.serves(p, s.institution, s.category)
            and held[p, e]
            and not self.status.keys() & {e.id, s.institution.id}  # both active
        ]
        pid, ent, svc = data.draw(st.sampled_from(fits if right and fits else orders), "order")
        quantity, f = data.draw(st.integers(1, 8), "quantity"), data.draw(fraction, "vouchers")
        face, price = t[pid]["faceValue"], svc.price * quantity
        cap = self.chain.read(self.p.programs, "maxVoucherValue", pid, price)
        units = max(1, round(f * min(held[pid, ent], cap // face, t[pid]["maxUnits"])))
        own = max(0, price - units * face) if right else round(data.draw(fraction) * price)
        self.deposit(ent, own)
        args = [svc.id, quantity, pid, units, own, self.request()]
        self.attempt(self.p.orders, "placeOrder", args, ent)

    def advance_order(self, data: st.DataObject, right: bool) -> None:
        """The next step of an open order, by its party; or anything by anyone."""
        ids = sorted(oid for oid, x in self.orders.items() if x["state"] in OPEN or not right)
        oid = data.draw(st.sampled_from(ids), "order")
        order, now = self.orders[oid], self.chain.now
        t, issuer = self.terms[order["programId"]], self.issuer(order["programId"])
        ent, inst = self.org(order["enterpriseOrg"]), self.org(order["institutionOrg"])
        steps = list(NEXT.get(OrderState(order["state"]), []))
        due = {
            "claim": now >= order["deliveredAt"] + t["confirmWindow"],
            "expire": now > t["settlementDeadline"],
        }
        steps += [a for a in steps if due.get(a, False)] * 3  # what time has just made possible
        action = data.draw(st.sampled_from(steps if right else ACTIONS), "action")
        parties = {
            "inst": (inst,),
            "ent": (ent,),
            "any": (ent, inst, issuer),
            "resolver": (issuer, self.c.regulator),
        }[PARTY[action]]
        actor = data.draw(st.sampled_from(parties if right else self.c.orgs), "by")
        args: list[Any] = [oid]
        if action in ("deliver", "dispute"):
            args.append(Web3.keccak(text=f"{action} of order {oid}"))
        elif action == "reject":
            args.append(3)
        elif action == "resolveDispute":  # a random split; (not right) one voucher too many
            fu, fo = data.draw(fraction, "vouchers paid"), data.draw(fraction, "own funds paid")
            args += [round(fu * order["units"]) + (not right), round(fo * order["ownFunds"])]
        valid = {**due, "resolveDispute": right}.get(action, True)
        must = action in steps and actor in parties and valid
        self.attempt(self.p.orders, action, args, actor, must=must)

    def move_holdings(self, data: st.DataObject, right: bool) -> None:
        """Money moves between organisations only; vouchers do not move at all."""
        s, orgs = self.p.settlement, self.c.orgs
        payer, payee = (
            data.draw(st.sampled_from(orgs[1:]), "from"),
            data.draw(st.sampled_from(orgs), "to"),
        )
        amount = data.draw(st.sampled_from([1, 3_000 * YUAN, 10**9 * YUAN]), "amount")
        has = self.chain.money(s, payer.vault) >= amount
        kind = data.draw(st.sampled_from(["mint", "transfer", "burn", "person", "vouchers"]))
        if kind == "mint":
            args = [payee.account, amount, self.request()]
            self.attempt(s, "mint", args, self.c.bank, must=True)
        elif kind == "transfer":
            self.attempt(s, "transfer", [payee.account, amount], payer, must=has)
        elif kind == "burn":  # a withdrawal; the bank holds what it was paid, or its own deposit
            if right:
                self.deposit(self.c.bank, amount)
            has = self.chain.money(s, self.c.bank.vault) >= amount
            self.attempt(s, "burn", [amount, self.request()], self.c.bank, must=has)
        elif kind == "person":
            args = [data.draw(st.sampled_from(self.c.individuals), "person"), amount]
            self.attempt(s, "transfer", args, payer, error="SettlementInvalidHolder")
        else:  # to another organisation or a person, singly or in a batch
            ent = data.draw(st.sampled_from(self.c.enterprises), "holder")
            pid = data.draw(st.sampled_from(sorted(self.terms)), "program")
            to = data.draw(st.sampled_from([payee.account, *self.c.individuals]), "to")
            fn, args = ("safeTransferFrom", [ent.account, to, pid, 1, b""])
            if data.draw(st.booleans(), "batch"):
                fn, args = ("safeBatchTransferFrom", [ent.account, to, [pid], [1], b""])
            self.attempt(self.p.vouchers, fn, args, ent, error="VoucherNonTransferable")

    def pause_or_unpause(self, data: st.DataObject, right: bool) -> None:
        """The governor pauses the protocol or lifts the pause; (not right) after the call that
        does not fit: pausing twice, or lifting no pause."""
        fits, other = ("unpause", "pause") if self.paused else ("pause", "unpause")
        if not right:
            error = "ProtocolPaused" if self.paused else "ExpectedPause"
            self.attempt(self.p.registry, other, [], self.c.governor, error=error)
        if self.attempt(self.p.registry, fits, [], self.c.governor, must=True):
            self.paused = not self.paused

    def change_status(self, data: st.DataObject, right: bool) -> None:
        """Suspends, reinstates, freezes or unfreezes an enterprise or institution: one at a time
        so that trade goes on, one an open order may pay or refund, so that it is paid while not
        active; or (not right) any change of anyone's, allowed by its status or not."""
        parties = (*self.c.enterprises, *self.c.institutions)
        payees = {x[PAYEE[x["state"]]] for x in self.orders.values() if x["state"] in OPEN}
        inactive = [o for o in parties if o.id in self.status]
        waiting = [o for o in parties if o.id in payees]
        org = data.draw(st.sampled_from((inactive or waiting or parties) if right else parties))
        status = self.status.get(org.id, OrgStatus.ACTIVE)
        fits = [fn for fn, (froms, _) in STATUS_CHANGES.items() if status in froms]
        fn = data.draw(st.sampled_from(fits if right else sorted(STATUS_CHANGES)), "change")
        froms, to = STATUS_CHANGES[fn]
        by = self.c.governor  # the cast's registrar; a regulator may freeze and unfreeze too
        if fn in ("freeze", "unfreeze"):
            by = data.draw(st.sampled_from([self.c.regulator, self.c.governor]), "by")
        args = [org.id, 9] if fn in ("suspend", "freeze") else [org.id]
        must = status in froms
        error = None if must else "RegistryInvalidStatusChange"
        if self.attempt(self.p.registry, fn, args, by, must=must, error=error):
            self.status.pop(org.id, None)
            if to != OrgStatus.ACTIVE:
                self.status[org.id] = to

    # -- rules: few, so that swarm testing rarely starves a whole life cycle ---------------------

    @rule(data=st.data(), right=mostly)
    def budget(self, data: st.DataObject, right: bool) -> None:
        ops = [self.top_up]
        ops += [self.close] if self.ended() or not right else []
        ops += [self.enrol] if len(self.programs(ProgramKind.REWARD)) > 1 else []  # +the cast's
        if len(self.terms) < MAX_PROGRAMS:
            ops += [self.create_program, self.create_program, self.next_year_with_rollover]
        data.draw(st.sampled_from(ops), "operation")(data, right)

    @rule(data=st.data(), right=mostly)
    def vouchers(self, data: st.DataObject, right: bool) -> None:
        ops = [self.issue, self.issue, self.apply_then_decide, self.revoke]
        data.draw(st.sampled_from(ops), "operation")(data, right)

    @rule(data=st.data(), right=mostly)
    def trade(self, data: st.DataObject, right: bool) -> None:
        ops = [self.place_order]
        if any(o["state"] in OPEN for o in self.orders.values()):
            ops += [self.advance_order] * 3
            ops = [*ops, *ops, self.change_status]  # 1 in 9: a party stops acting, not being paid
        data.draw(st.sampled_from(ops), "operation")(data, right)

    trade_more = trade_even_more = trade  # orders drive most laws: trade thrice as often

    @rule(data=st.data(), right=mostly)
    def holdings(self, data: st.DataObject, right: bool) -> None:
        self.move_holdings(data, right)

    @rule(data=st.data(), right=mostly)
    def govern(self, data: st.DataObject, right: bool) -> None:
        """A pause, lifted at the rule's next turn (after maybe a status change while paused), or
        an organisation's status changed."""
        if self.paused:
            if data.draw(st.booleans(), "status change while paused"):
                self.change_status(data, right)
            self.pause_or_unpause(data, right)
            return
        ops = [self.pause_or_unpause, self.change_status, self.change_status, self.change_status]
        data.draw(st.sampled_from(ops), "operation")(data, right)

    @rule(days=st.sampled_from([0.5, 3, 5, 12, 30]))
    def travel(self, days: float) -> None:
        self.chain.travel(int(days * DAY))

    # -- the laws ---------------------------------------------------------------------------------

    @invariant()
    def conservation_laws(self) -> None:
        ch, p, money = self.chain, self.p, self.p.settlement
        STATS["steps"] += 1
        ch.refresh()
        if ch.state.state_root == self.checked:
            return  # nothing changed since the last check (time may have passed)
        self.checked = ch.state.state_root
        STATS["checks"] += 1
        for oid in range(1, ch.read(p.orders, "orderCount") + 1):
            if self.orders.get(oid, {"state": OrderState.PLACED})["state"] in OPEN:
                self.orders[oid] = ch.read(p.orders, "order", oid)
        open_orders = [o for o in self.orders.values() if o["state"] in OPEN]
        holders = [e.vault for e in self.c.enterprises]
        others = [o.vault for o in self.c.orgs if o not in self.c.enterprises]
        others += [*self.c.individuals, p.programs.address]
        escrowed, balances = 0, []  # balances: every vault's and escrow's holdings
        for pid in range(1, ch.read(p.programs, "programCount") + 1):
            if pid not in self.terms:
                self.terms[pid] = ch.read(p.programs, "terms", pid)
            s = self.states[pid] = ch.read(p.programs, "state", pid)
            face, escrow = self.terms[pid]["faceValue"], s["funded"] + s["rolledIn"] - s["paid"]
            escrow -= s["returned"]
            escrowed += escrow
            out = s["issuedUnits"] - s["redeemedUnits"] - s["revokedUnits"] - s["expiredUnits"]
            assert out * face <= escrow, f"program {pid}: outstanding vouchers exceed the escrow"
            mine = [o for o in open_orders if o["programId"] == pid]
            seen = (
                s,
                [(oid, o["state"]) for oid, o in self.orders.items() if o["programId"] == pid],
            )
            if self.seen.get(pid) != seen:  # the views below depend on nothing else
                self.seen[pid] = seen
                assert ch.read(p.programs, "escrowed", pid) == escrow, f"program {pid}"
                assert ch.read(p.orders, "openOrders", pid) == len(mine), f"program {pid}"
            for o in mine:
                assert o["voucherValue"] == o["units"] * face, o
                assert o["voucherValue"] + o["ownFunds"] == o["price"], o
            if s["closed"]:
                assert escrow == out == 0, f"closed program {pid} kept escrow or vouchers"
            if self.terms[pid]["kind"] == ProgramKind.REWARD:
                assert s["issuedUnits"] == 0, f"reward program {pid} issued vouchers"
            # vouchers sit with enterprises and start-up teams, or locked in the order book
            locked = ch.vouchers(p.vouchers, p.orders.address, pid)
            assert locked == sum(o["units"] for o in mine), f"program {pid}: locked vouchers"
            in_vaults = [ch.vouchers(p.vouchers, h, pid) for h in holders]
            assert sum(in_vaults) + locked == out, f"program {pid}: vouchers held ≠ outstanding"
            balances += [locked, *in_vaults]
            strays = {x: ch.vouchers(p.vouchers, x, pid) for x in others}
            assert not any(strays.values()), f"program {pid}: vouchers held by {strays}"

        supply = ch.read(money, "totalSupply")
        assert supply == ch.read(money, "totalMinted") - ch.read(money, "totalBurned")
        in_programs, in_orders = (
            ch.money(money, p.programs.address),
            ch.money(money, p.orders.address),
        )
        funds = {o.id: ch.money(money, o.vault) for o in self.c.orgs}
        vaults = sum(funds.values())
        assert supply == vaults + in_programs + in_orders, "money outside vaults and escrows"
        assert in_programs == escrowed, "ProgramManager's money ≠ Σ escrowed"
        assert in_orders == sum(o["ownFunds"] for o in open_orders), "OrderBook's money ≠ own funds"
        assert not any(ch.money(money, x) for x in self.c.individuals), "a person holds money"
        # an account reads its organisation's vault (and the storage slots read above are right)
        org = self.c.orgs[STATS["checks"] % len(self.c.orgs)]
        assert ch.read(money, "balanceOf", org.account) == ch.money(money, org.vault), org
        pid = 1 + STATS["checks"] % len(self.terms)
        held = ch.vouchers(p.vouchers, org.vault, pid)
        assert ch.read(p.vouchers, "balanceOf", org.account, pid) == held, (org, pid)
        # nothing moves while the protocol is paused
        balances += [in_programs, in_orders, *funds.values()]
        self.at_pause = (self.at_pause or balances) if self.paused else []
        assert not self.paused or balances == self.at_pause, "value moved while paused"
        # a suspended or frozen organisation is paid and refunded, but pays nothing
        floors, self.floors = self.floors, {i: funds[i] for i in self.status}
        for i in self.status.keys() & floors.keys():
            assert funds[i] >= floors[i], f"organisation {i} paid out while {self.status[i].name}"
            STATS["inactive organisation paid"] += funds[i] > floors[i]


@pyevm_only  # reads py-evm's state directly: ~3,000 steps over JSON-RPC would take far too long
def test_conservation_laws_hold_under_random_operations(cast: Cast) -> None:
    class Machine(VoucherMachine):
        pass

    Machine.cast = cast
    STATS.clear()
    run_state_machine_as_test(Machine, settings=CI)
    print("\n", dict(sorted(STATS.items())))
    # the run must have exercised the paths the laws are about, not only refusals
    for fn in (
        "issue",
        "approveApplication",
        "placeOrder",
        "confirm",
        "claim",
        "dispute",
        "resolveDispute",
        "reject",
        "cancel",
        "expire",
        "close",
        "setRollover",
        "enrollBeneficiary",
        "revoke",
        "burn",
        "pause",
        "unpause",
        "suspend",
        "reinstate",
        "freeze",
        "unfreeze",
    ):
        assert STATS[f"{fn} ok"] > 0, f"no {fn} went through in the whole run: {dict(STATS)}"
    for what in ("refused: paused", "refused: not active", "inactive organisation paid"):
        assert STATS[what] > 0, f"never {what} in the whole run: {dict(STATS)}"
    # Rollovers and reward payouts are reached by some runs only (one CI run of 60 examples had
    # none, another had 6 and 30), so they are reported, not required here; their conservation
    # is pinned by deterministic tests: test_scenarios.py (budget cycle with rollover, Zhejiang
    # reward), test_rewards.py and test_disputes_and_close.py (rollover).
    print(
        "rollovers:",
        STATS["close rolled over"],
        "reward payouts:",
        STATS["reward programs that paid"],
    )


@pytest.mark.parametrize("how", ["mint", "transfer"])
@pytest.mark.parametrize("escrow", ["programs", "orders"])
def test_money_cannot_be_paid_straight_into_a_protocol_escrow(
    world: World, how: str, escrow: str
) -> None:
    """Money an escrow does not account for would break `its balance == what it owes`."""
    target = getattr(world.p, escrow).address
    finance = world.finance(BEIJING)
    world.deposit(finance, 1_000 * YUAN)
    supply = world.p.settlement.functions.totalSupply()
    before = (world.balance(target), world.balance(finance), supply.call())
    fn, sender = world.p.settlement.functions.transfer(target, 100 * YUAN), finance
    if how == "mint":
        fn, sender = world.p.settlement.functions.mint(target, 100 * YUAN, bytes(32)), world.bank()
    with reverts("SettlementInvalidHolder", holder=target):
        world.send(fn, sender)
    assert (world.balance(target), world.balance(finance), supply.call()) == before

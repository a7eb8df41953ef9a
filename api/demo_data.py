"""Demo data for `voucher-chain up`: the source document's regions, programs, institutions and
enterprises, loaded once on a fresh dev chain, with one API key per demo organisation.

Development only. Every step is a real signed transaction through the permissioned node: the
governor (the node's authority key) registers the organisations, accredits the institutions and
adds the relayer; every other organisation signs with its own key, generated into a custody
keystore in the data dir, so the API can sign for it afterwards (custodial mode). The keystore is
locked by a random master key kept *next to it* in the data dir (``custody-master.key``, 0600):
fine for a demo on one machine, never for anything real.

Files in the data dir:

- ``custody-keys.json`` and ``custody-master.key``: the custody keystore and its master key;
- ``demo-logins.txt``: the demo organisations with their API keys (shown only here: the API
  database stores them hashed);
- the node's meta ``demo_data`` (in the chain database): the marker that the chain is seeded,
  with the relayer account and the programs' ids.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from api.auth import Principal, create_api_key
from api.db import Database
from voucher_chain.contracts import Category, KindMask, OrgKind, ProgramKind, Protocol, call
from voucher_chain.contracts import transact as node_transact
from voucher_chain.node import Node, ensure_dev_protocol, signing_web3
from voucher_chain.services import (
    OrderCreate,
    OrganisationCreate,
    ProgramCreate,
    ServiceCreate,
    VoucherClient,
)
from voucher_chain.signer import Keystore, LocalSigner, Submitter, generate_master_key

__all__ = [
    "KEYSTORE_FILE",
    "LOGINS_FILE",
    "MASTER_KEY_FILE",
    "META_KEY",
    "DemoData",
    "DemoLogin",
    "custody_settings",
    "ensure_demo_data",
    "logins_table",
]

log = logging.getLogger(__name__)

KEYSTORE_FILE = "custody-keys.json"
MASTER_KEY_FILE = "custody-master.key"
LOGINS_FILE = "demo-logins.txt"
#: The node meta key marking a seeded chain.
META_KEY = "demo_data"

YUAN = 100  # fen
DAY = 24 * 3600
FISCAL_YEAR = 2026

# GB/T 2260 codes
BEIJING, BEIJING_HAIDIAN = 110000, 110108
SHANGHAI, SHANGHAI_PUDONG, SHANGHAI_MINHANG = 310000, 310115, 310112
ZHEJIANG, HANGZHOU, CHANGXING, WENLING = 330000, 330100, 330522, 331081
NATIONAL = 0


@dataclass(frozen=True)
class DemoLogin:
    """A demo organisation and the API key it logs in with."""

    name: str
    kind: str
    region: int
    org_id: int
    account: str
    api_key: str


@dataclass(frozen=True)
class DemoData:
    """What the seed left: where the custody keys are, the relayer, the logins, the programs."""

    keystore_path: Path
    master_key: str
    relayer: str
    programs: dict[str, int]
    logins: list[DemoLogin]
    #: True when this call loaded the data, False when the chain already held it.
    seeded_now: bool

    def settings_overrides(self) -> dict[str, Any]:
        """``Settings`` fields that make the API sign for the demo organisations."""
        overrides: dict[str, Any] = {"relayer_account": self.relayer}
        if self.master_key:
            overrides["keystore_path"] = self.keystore_path
            overrides["keystore_master_key"] = self.master_key
        return overrides


def custody_settings(data_dir: Path) -> dict[str, Any]:
    """The custody ``Settings`` fields for ``data_dir``'s keystore, if there is one."""
    keystore, master = data_dir / KEYSTORE_FILE, data_dir / MASTER_KEY_FILE
    if not (keystore.exists() and master.exists()):
        return {}
    return {"keystore_path": keystore, "keystore_master_key": master.read_text().strip()}


# -- the cast ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    key: str
    name: str
    kind: OrgKind
    region: int
    employees: int = 20


_ORGS = (
    _Spec("bank", "Demo settlement bank", OrgKind.BANK, BEIJING, 5000),
    _Spec("regulator", "National innovation-voucher audit office", OrgKind.REGULATOR, BEIJING),
    _Spec("most", "Ministry of Science and Technology (national)", OrgKind.ISSUER, BEIJING),
    _Spec("mof", "Ministry of Finance (national)", OrgKind.FINANCE, BEIJING),
    _Spec("bj_issuer", "Beijing S&T Commission", OrgKind.ISSUER, BEIJING),
    _Spec("bj_finance", "Beijing Finance Bureau", OrgKind.FINANCE, BEIJING),
    _Spec("sh_issuer", "Shanghai S&T Commission", OrgKind.ISSUER, SHANGHAI),
    _Spec("sh_finance", "Shanghai Finance Bureau", OrgKind.FINANCE, SHANGHAI),
    _Spec("zj_issuer", "Zhejiang S&T Department", OrgKind.ISSUER, ZHEJIANG),
    _Spec("zj_finance", "Zhejiang Finance Department", OrgKind.FINANCE, ZHEJIANG),
    _Spec("cx_issuer", "Changxing County S&T Bureau", OrgKind.ISSUER, CHANGXING),
    _Spec("cx_finance", "Changxing County Finance Bureau", OrgKind.FINANCE, CHANGXING),
    _Spec(
        "sh_platform",
        "Shanghai R&D public testing platform",
        OrgKind.INSTITUTION,
        SHANGHAI_PUDONG,
        300,
    ),
    _Spec(
        "bj_lab", "Haidian key laboratory of materials", OrgKind.INSTITUTION, BEIJING_HAIDIAN, 120
    ),
    _Spec("hz_centre", "Hangzhou engineering research centre", OrgKind.INSTITUTION, HANGZHOU, 200),
    _Spec(
        "wl_platform", "Wenling pump & motor innovation platform", OrgKind.INSTITUTION, WENLING, 80
    ),
    _Spec("bj_firm", "Zhongguancun micro-sensor Co.", OrgKind.ENTERPRISE, BEIJING_HAIDIAN, 15),
    _Spec("bj_team", "Haidian AI start-up team", OrgKind.STARTUP_TEAM, BEIJING_HAIDIAN, 4),
    _Spec("sh_micro", "Pudong biochip Co. (micro)", OrgKind.ENTERPRISE, SHANGHAI_PUDONG, 8),
    _Spec(
        "sh_medium", "Minhang precision machinery Co.", OrgKind.ENTERPRISE, SHANGHAI_MINHANG, 150
    ),
    _Spec("cx_firm", "Changxing new-materials Co.", OrgKind.ENTERPRISE, CHANGXING, 30),
    _Spec("hz_firm", "Hangzhou smart-devices Co.", OrgKind.ENTERPRISE, HANGZHOU, 60),
)

#: institution → (category, price in yuan, name) of its listed services
_SERVICES: dict[str, list[tuple[Category, int, str]]] = {
    "sh_platform": [
        (Category.TESTING, 60_000, "EMC and reliability testing"),
        (Category.RD_DESIGN, 30_000, "Industrial design review"),
        (Category.TECHNICAL_CONSULTING, 8_000, "Certification consulting"),
    ],
    "bj_lab": [
        (Category.TESTING, 10_000, "Materials characterisation"),
        (Category.COOPERATIVE_RD, 80_000, "Cooperative R&D on sensor materials"),
        (Category.NOVELTY_SEARCH, 3_000, "Novelty search (检索查新)"),
    ],
    "hz_centre": [
        (Category.RD_DESIGN, 40_000, "Embedded product R&D design"),
        (Category.COMMISSIONED_DEVELOPMENT, 120_000, "Commissioned firmware development"),
        (Category.TECHNICAL_SOLUTION, 50_000, "Smart-manufacturing technical solution"),
    ],
    "wl_platform": [
        (Category.TESTING, 15_000, "Pump and motor performance testing"),
        (Category.TECHNICAL_CONSULTING, 5_000, "Energy-efficiency consulting"),
    ],
}


# -- seeding ----------------------------------------------------------------------------------


def ensure_demo_data(node: Node, data_dir: Path, database_path: Path) -> DemoData | None:
    """The demo data of ``node``'s chain, loading it first if the chain is fresh.

    Fresh means no organisation but the governor is registered and no marker is recorded. A
    chain that has other organisations but no marker (real data, or a seed that was interrupted)
    is left alone: the result is ``None``.
    """
    addresses = ensure_dev_protocol(node)
    stored = node.get_meta(META_KEY)
    if stored:
        return _stored(data_dir, stored)
    w3 = signing_web3(node)
    protocol = Protocol.at(w3, addresses)
    if int(call(protocol.registry.functions.organisationCount())) > 1:
        log.warning("the chain has organisations but no demo data marker: not seeding it")
        return None
    return _Seeder(node, protocol, data_dir, database_path).run()


def _stored(data_dir: Path, stored: dict[str, Any]) -> DemoData:
    custody = custody_settings(data_dir)
    # the API keys themselves are in demo-logins.txt only
    logins = [DemoLogin(**{**entry, "api_key": ""}) for entry in stored.get("logins", [])]
    return DemoData(
        keystore_path=data_dir / KEYSTORE_FILE,
        master_key=str(custody.get("keystore_master_key", "")),
        relayer=str(stored["relayer"]),
        programs={str(k): int(v) for k, v in stored["programs"].items()},
        logins=logins,
        seeded_now=False,
    )


def _open_custody(data_dir: Path) -> tuple[Keystore, str]:
    path, key_file = data_dir / KEYSTORE_FILE, data_dir / MASTER_KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    if path.exists() and key_file.exists():
        master = key_file.read_text().strip()
        return Keystore.open(path, master_key=bytes.fromhex(master)), master
    master = generate_master_key()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(master + "\n")
    return Keystore.create(path, master_key=bytes.fromhex(master)), master


class _Seeder:
    def __init__(self, node: Node, protocol: Protocol, data_dir: Path, database: Path) -> None:
        self.node = node
        self.p = protocol
        self.data_dir = data_dir
        self.database = database
        self.keystore, self.master_key = _open_custody(data_dir)
        self.governor = Web3.to_checksum_address(Account.from_key(node.authority_key).address)
        submitter = Submitter(protocol.w3, LocalSigner(self.keystore))

        def transact(fn: ContractFunction, sender: str) -> TxReceipt:
            if Web3.to_checksum_address(sender) == self.governor:
                return node_transact(fn, sender)
            return submitter.transact(fn, sender)

        self.client = VoucherClient(protocol, transact)
        self.orgs: dict[str, tuple[_Spec, int, str]] = {}
        self._refs = 0

    def _ref(self, what: str) -> str:
        self._refs += 1
        return f"demo-{what}-{self._refs}"

    def acct(self, key: str) -> str:
        return self.orgs[key][2]

    def org(self, key: str) -> int:
        return self.orgs[key][1]

    def run(self) -> DemoData:
        log.info("loading demo data")
        for spec in _ORGS:
            self._register(spec)
        relayer = self.keystore.generate(org_id=1, label="relayer")
        self.client.registry.add_account(self.governor, 1, relayer)
        programs = self._programs()
        services = self._catalogue(programs)
        self._wallets(programs)
        self._orders(programs, services)
        logins = self._api_keys()
        public = [{k: v for k, v in vars(x).items() if k != "api_key"} for x in logins]
        marker = {"relayer": relayer, "programs": programs, "logins": public}
        data = DemoData(
            keystore_path=self.keystore.path,
            master_key=self.master_key,
            relayer=relayer,
            programs=programs,
            logins=logins,
            seeded_now=True,
        )
        path = self.data_dir / LOGINS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(logins_table(logins) + "\n")
        self.node.set_meta(META_KEY, marker)
        log.info("demo data loaded: %d organisations, %d programs", len(logins), len(programs))
        return data

    def _register(self, spec: _Spec) -> None:
        index = len(self.orgs) + 1
        key = os.urandom(32)
        account = Web3.to_checksum_address(Account.from_key(key).address)
        org = self.client.registry.register(
            self.governor,
            OrganisationCreate(
                kind=spec.kind,
                region=spec.region,
                credit_code=f"91{spec.region:06d}DEMO{index:06d}",
                employees=spec.employees,
                industry=6510,
                account=account,
            ),
        )
        self.keystore.import_key(key, org_id=org.id, label=spec.name)
        self.orgs[spec.key] = (spec, org.id, account)

    def _program(self, issuer: str, finance: str, budget_yuan: int, **terms: Any) -> int:
        now = int(self.p.w3.eth.get_block("latest")["timestamp"])
        program = self.client.programs.create(
            self.acct(issuer),
            ProgramCreate(
                fiscal_year=FISCAL_YEAR,
                finance_org=self.org(finance),
                issue_start=now,
                issue_end=now + 180 * DAY,
                expiry=now + 300 * DAY,
                settlement_deadline=now + 330 * DAY,
                **terms,
            ),
        )
        budget = budget_yuan * YUAN
        # the bank mints the budget into the finance bureau (against a deposit), which escrows it
        self.client.money.deposit(self.acct("bank"), self.acct(finance), budget, self._ref("fund"))
        self.client.programs.fund(self.acct(finance), program.id, budget)
        return program.id

    def _programs(self) -> dict[str, int]:
        return {
            "beijing": self._program(
                "bj_issuer",
                "bj_finance",
                2_000_000,
                face_value=5_000 * YUAN,
                min_units=1,
                max_units=40,
                share_bps=5_000,
                spend_regions=[BEIJING],
                eligible_regions=[BEIJING],
            ),
            "shanghai": self._program(
                "sh_issuer",
                "sh_finance",
                5_000_000,
                per_holder_cap=100_000 * YUAN,
                spend_regions=[SHANGHAI],
                eligible_regions=[SHANGHAI],
            ),
            "zhejiang_reward": self._program(
                "zj_issuer",
                "zj_finance",
                1_000_000,
                kind=ProgramKind.REWARD,
                share_bps=1_000,
                per_holder_cap=200_000 * YUAN,
                spend_regions=[ZHEJIANG],
                eligible_regions=[ZHEJIANG],
                eligible_kinds=int(KindMask.VOUCHER_HOLDERS),
            ),
            "changxing": self._program(
                "cx_issuer",
                "cx_finance",
                500_000,
                per_holder_cap=50_000 * YUAN,
                spend_regions=[CHANGXING, SHANGHAI],
                eligible_regions=[CHANGXING],
            ),
            "national": self._program(
                "most",
                "mof",
                10_000_000,
                per_holder_cap=200_000 * YUAN,
                spend_regions=[NATIONAL],
                eligible_regions=[NATIONAL],
            ),
        }

    def _catalogue(self, programs: dict[str, int]) -> dict[str, list[int]]:
        listed: dict[str, list[int]] = {}
        for inst, services in _SERVICES.items():
            self.client.catalogue.accredit(self.governor, self.org(inst), Category.mask())
            listed[inst] = [
                self.client.catalogue.list_service(
                    self.acct(inst), ServiceCreate(category=int(c), price=yuan * YUAN, name=name)
                ).id
                for c, yuan, name in services
            ]
        # Zhejiang's provincial vouchers reward its innovation carriers (创新载体)
        for inst in ("hz_centre", "wl_platform"):
            self.client.programs.enroll(
                self.acct("zj_issuer"), programs["zhejiang_reward"], self.org(inst)
            )
        return listed

    def _wallets(self, programs: dict[str, int]) -> None:
        issues = [
            ("bj_issuer", "beijing", "bj_firm", 4),  # 4 vouchers of ¥5,000
            ("bj_issuer", "beijing", "bj_team", 2),
            ("sh_issuer", "shanghai", "sh_micro", 100_000 * YUAN),  # the cap
            ("sh_issuer", "shanghai", "sh_medium", 60_000 * YUAN),
            ("cx_issuer", "changxing", "cx_firm", 50_000 * YUAN),
            ("most", "national", "hz_firm", 100_000 * YUAN),
            ("most", "national", "sh_medium", 80_000 * YUAN),
        ]
        for issuer, program, holder, units in issues:
            self.client.programs.issue(
                self.acct(issuer), programs[program], self.org(holder), units, self._ref("issue")
            )
        own = {
            "bj_firm": 100_000,
            "bj_team": 10_000,
            "sh_micro": 100_000,
            "sh_medium": 200_000,
            "cx_firm": 80_000,
            "hz_firm": 100_000,
        }
        for holder, yuan in own.items():
            self.client.money.deposit(
                self.acct("bank"), self.acct(holder), yuan * YUAN, self._ref("deposit")
            )

    def _settle(self, ent: str, inst: str, service: int, program: int, voucher: int) -> None:
        price = self.client.catalogue.get(service).price
        order = self.client.orders.place(
            self.acct(ent),
            OrderCreate(
                service_id=service,
                program_id=program,
                units=voucher,
                own_funds=price - voucher,
                request_id=self._ref("order"),
            ),
        )
        self.client.orders.accept(self.acct(inst), order.id)
        deliverable = Web3.keccak(text=f"demo deliverable of order {order.id}")
        self.client.orders.deliver(self.acct(inst), order.id, bytes(deliverable))
        self.client.orders.confirm(self.acct(ent), order.id)

    def _orders(self, programs: dict[str, int], services: dict[str, list[int]]) -> None:
        # the document's case: a Changxing firm tests at a Shanghai platform, 50% in vouchers
        self._settle(
            "cx_firm",
            "sh_platform",
            services["sh_platform"][0],
            programs["changxing"],
            30_000 * YUAN,
        )
        # national vouchers at a Zhejiang innovation carrier, which also earns the provincial reward
        self._settle(
            "hz_firm", "hz_centre", services["hz_centre"][0], programs["national"], 20_000 * YUAN
        )
        # an open order the Beijing lab has yet to accept: 2 vouchers (¥10,000) + ¥70,000 own
        self.client.orders.place(
            self.acct("bj_firm"),
            OrderCreate(
                service_id=services["bj_lab"][1],
                quantity=1,
                program_id=programs["beijing"],
                units=2,
                own_funds=70_000 * YUAN,
                request_id=self._ref("order"),
            ),
        )

    def _api_keys(self) -> list[DemoLogin]:
        db = Database(self.database)
        logins = []
        for key, (spec, org_id, account) in self.orgs.items():
            principal = Principal(org_id=org_id, kind=spec.kind, account=account, via="api-key")
            _, secret = create_api_key(db, principal, "write", f"demo {key}")
            logins.append(
                DemoLogin(
                    name=spec.name,
                    kind=spec.kind.name.lower(),
                    region=spec.region,
                    org_id=org_id,
                    account=account,
                    api_key=secret,
                )
            )
        return logins


def logins_table(logins: list[DemoLogin], out: Callable[[str], None] | None = None) -> str:
    """The demo logins as a text table (and through ``out`` line by line, if given)."""
    header = ("org", "name", "kind", "region", "account", "API key")
    rows = [
        (str(x.org_id), x.name, x.kind, f"{x.region:06d}", x.account, x.api_key) for x in logins
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    text = "\n".join(lines)
    if out is not None:
        for line in lines:
            out(line)
    return text

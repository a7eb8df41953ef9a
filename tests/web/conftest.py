"""The web apps in headless Chromium (Debian's package, driven by Playwright) against a running
system: the embedded node with `voucher-chain up`'s demo data, served over JSON-RPC, and the
API (with the apps) over uvicorn — the same parts `make run` starts.

On top of the demo data the scene adds what the journeys need: a self-custody enterprise whose
key only the test (and then the browser) knows, a testing-only Shanghai program (for the
wrong-category refusal), a program with a full-cover threshold (for the split check) and a
program whose settlement deadline passes during the run (for closing one).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from eth_account import Account
from playwright.sync_api import ConsoleMessage, Page, Route, expect
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from api.demo_data import DemoData, DemoLogin, ensure_demo_data
from api.live import LiveServer
from api.main import connect, create_app
from api.settings import Settings
from voucher_chain.contracts import Category, OrgKind, Protocol
from voucher_chain.contracts import transact as node_transact
from voucher_chain.node import Node, NodeConfig, RpcServer, ensure_dev_protocol, signing_web3
from voucher_chain.services import OrganisationCreate, ProgramCreate, VoucherClient
from voucher_chain.signer import Keystore, LocalSigner, Submitter

CHROMIUM = Path(os.environ.get("VOUCHER_CHAIN_CHROMIUM", "/usr/lib/chromium/chromium"))
#: Screenshots of every screen the tests visit (gitignored; a few are copied to docs/screenshots).
#: Not test-results/: pytest-playwright empties that folder at the start of every run.
SHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"
YUAN = 100
SHANGHAI, SHANGHAI_PUDONG = 310000, 310115
# Under load (two cores shared), the first /audit call indexes the whole chain: wait for longer
# than Playwright's 5 s default before an expectation fails.
expect.set_options(timeout=30_000)

#: The deadline of the program the issuer closes: this many seconds after the scene is built
CLOSABLE_AFTER = 8


@dataclass
class System:
    url: str
    demo: DemoData
    protocol: Protocol
    self_custody_key: str
    self_custody_org: int
    programs: dict[str, int] = field(default_factory=dict)
    closable_at: int = 0

    def login(self, name: str) -> DemoLogin:
        return next(x for x in self.demo.logins if x.name.startswith(name))

    def http(self, name: str) -> httpx2.Client:
        key = self.login(name).api_key
        return httpx2.Client(base_url=self.url, headers={"X-API-Key": key}, timeout=60)


def _scene(node: Node, data_dir: Path, demo: DemoData, keystore: Keystore) -> dict[str, Any]:
    """The additions to the demo data, signed by the governor (the node's authority) and by the
    demo organisations' custody keys."""
    protocol = Protocol.at(signing_web3(node), ensure_dev_protocol(node))
    governor = Web3.to_checksum_address(Account.from_key(node.authority_key).address)
    submitter = Submitter(protocol.w3, LocalSigner(keystore))

    def transact(fn: ContractFunction, sender: str) -> TxReceipt:
        if Web3.to_checksum_address(sender) == governor:
            return node_transact(fn, sender)
        return submitter.transact(fn, sender)

    client = VoucherClient(protocol, transact)

    def login(name: str) -> DemoLogin:
        return next(x for x in demo.logins if x.name.startswith(name))

    bank, sh_issuer = login("Demo settlement bank").account, login("Shanghai S&T").account
    finance = login("Shanghai Finance")
    sh_finance, pudong = finance.org_id, login("Pudong biochip").org_id

    wallet = Account.create()
    self_custody = client.registry.register(
        governor,
        OrganisationCreate(
            kind=OrgKind.ENTERPRISE,
            region=SHANGHAI_PUDONG,
            credit_code="91310115WEBTEST001",
            employees=12,
            account=wallet.address,
        ),
    )
    client.money.deposit(bank, wallet.address, 50_000 * YUAN, "web-self-custody-funds")

    now = int(protocol.w3.eth.get_block("latest")["timestamp"])
    year = {"issue_start": now, "issue_end": now + 180 * 86400, "expiry": now + 300 * 86400}
    year["settlement_deadline"] = now + 330 * 86400

    def program(name: str, budget_yuan: int, **terms: Any) -> int:
        created = client.programs.create(
            sh_issuer,
            ProgramCreate(fiscal_year=2026, finance_org=sh_finance, **{**year, **terms}),
        )
        client.money.deposit(bank, finance.account, budget_yuan * YUAN, f"web-{name}")
        client.programs.fund(finance.account, created.id, budget_yuan * YUAN)
        return created.id

    programs = {
        "testing_only": program(
            "testing-only",
            200_000,
            categories=Category.mask(Category.TESTING),
            spend_regions=[SHANGHAI],
            eligible_regions=[SHANGHAI],
        ),
        "tiered": program(
            "tiered",
            200_000,
            face_value=YUAN,
            share_bps=3_000,
            full_cover_threshold=10_000 * YUAN,
            max_units=90_000,
            spend_regions=[SHANGHAI],
            eligible_regions=[SHANGHAI],
        ),
    }
    for name, units in (("testing_only", 20_000 * YUAN), ("tiered", 50_000)):
        client.programs.issue(sh_issuer, programs[name], pudong, units, f"web-issue-{name}")
    closable_at = now + CLOSABLE_AFTER
    programs["closable"] = program(
        "closable",
        10_000,
        issue_start=now,
        issue_end=closable_at - 2,
        expiry=closable_at - 1,
        settlement_deadline=closable_at,
    )
    return {
        "key": wallet.key.hex(),
        "org": self_custody.id,
        "programs": programs,
        "closable_at": closable_at,
    }


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    data_dir = tmp_path_factory.mktemp("web")
    database = data_dir / "api.sqlite3"
    node = Node(
        NodeConfig(
            data_dir=data_dir / "node", dev=True, automine=True, auto_seal=False, synchronous="OFF"
        )
    )
    rpc = None
    try:
        demo = ensure_demo_data(node, data_dir, database)
        assert demo is not None
        rpc = RpcServer(node, port=0).start()
        settings = Settings(
            rpc_url=rpc.url,
            deployment_path=data_dir / "node" / "protocol.json",
            database_path=database,
            **demo.settings_overrides(),
        )
        protocol, keystore = connect(settings)
        assert keystore is not None
        extra = _scene(node, data_dir, demo, keystore)
        with LiveServer(create_app(settings, protocol, keystore=keystore)) as server:
            yield System(
                url=server.url,
                demo=demo,
                protocol=protocol,
                self_custody_key=extra["key"],
                self_custody_org=extra["org"],
                programs=extra["programs"],
                closable_at=extra["closable_at"],
            )
    finally:
        if rpc is not None:
            rpc.stop()
        node.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, not a browser downloaded by `playwright install`."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make chromium` installs Debian's package")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM)}


@pytest.fixture(scope="session")
def base_url(system: System) -> str:
    return system.url


@pytest.fixture
def page(page: Page, system: System) -> Iterator[Page]:
    """The test's page, offline but for the system's origin; fails the test on any script
    error or Content-Security-Policy violation in the browser."""
    page.set_default_timeout(30_000)
    outside: list[str] = []
    errors: list[str] = []

    def only_the_system(route: Route) -> None:
        if route.request.url.startswith(system.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def console(message: ConsoleMessage) -> None:
        # a refused API call is logged as a failed load: the apps show those themselves
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.route("**/*", only_the_system)
    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert outside == [], f"requests outside the system (the apps must work offline): {outside}"
    assert errors == [], f"errors in the browser: {errors}"


def shot(page: Page, name: str) -> None:
    """A full-page screenshot of the current screen, into test-screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login_api_key(page: Page, app: str, api_key: str) -> None:
    page.goto(f"/app/{app}/")
    page.fill("#api-key", api_key)
    page.click("#login-api-key button[type=submit]")
    page.wait_for_selector("nav.tabs button.active")


def wait_until_chain_time(system: System, at: int) -> None:
    deadline = time.monotonic() + 60
    while int(time.time()) <= at + 1:
        if time.monotonic() > deadline:
            raise AssertionError("the chain's time did not pass the deadline")
        time.sleep(0.5)


def tab(page: Page, name: str) -> None:
    page.click(f"nav.tabs button[data-tab={name}]")
    page.wait_for_selector(f"nav.tabs button.active[data-tab={name}]")
    page.wait_for_selector(f"main section[data-view={name}]")
    page.wait_for_selector("main .loading", state="detached")


def flash_text(page: Page, kind: str = "ok") -> str:
    """The text of the page's message after an action (kind: ok or error)."""
    locator = page.locator(f".flash.{kind}").first
    locator.wait_for()
    return locator.inner_text()


def open_order_form(page: Page, service_name: str, program_id: int) -> None:
    """Catalogue → the service's Order button → the program chosen; the split is computed."""
    tab(page, "catalogue")
    row = page.locator("#services tr", has_text=service_name)
    row.locator("button[data-action=order]").click()
    page.select_option("#order-program", str(program_id))
    page.wait_for_selector("#order-split dd[data-field=own]")

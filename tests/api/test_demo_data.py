"""`voucher-chain up`'s demo data: seeded once on a fresh embedded node, the programs of the
source document on chain, and the API signing for the demo organisations with their API keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from api.demo_data import LOGINS_FILE, DemoData, DemoLogin, ensure_demo_data
from api.live import LiveServer
from api.main import create_app
from api.settings import Settings
from voucher_chain.contracts import Category, OrderState, ProgramKind, Protocol, call
from voucher_chain.node import Node, NodeConfig, NodeProvider, ensure_dev_protocol
from voucher_chain.services import VoucherClient
from voucher_chain.signer import Keystore

YUAN = 100


def _node(data_dir: Path) -> Node:
    return Node(
        NodeConfig(
            data_dir=data_dir / "node", dev=True, automine=True, auto_seal=False, synchronous="OFF"
        )
    )


def _read_only(_fn: ContractFunction, _sender: str) -> TxReceipt:
    raise AssertionError("the test reads only")


@dataclass
class Seeded:
    data_dir: Path
    node: Node
    protocol: Protocol
    client: VoucherClient
    first: DemoData
    second: DemoData
    orgs_after_first: int

    def login(self, name: str) -> DemoLogin:
        return next(x for x in self.first.logins if x.name.startswith(name))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    data_dir = tmp_path_factory.mktemp("up")
    database = data_dir / "api.sqlite3"
    node = _node(data_dir)
    try:
        first = ensure_demo_data(node, data_dir, database)
        assert first is not None and first.seeded_now
        w3 = Web3(NodeProvider(node))
        registry = Protocol.at(w3, ensure_dev_protocol(node)).registry
        orgs = int(call(registry.functions.organisationCount()))
    finally:
        node.close()
    node = _node(data_dir)  # a second start of the same data dir
    try:
        second = ensure_demo_data(node, data_dir, database)
        assert second is not None
        protocol = Protocol.at(Web3(NodeProvider(node)), ensure_dev_protocol(node))
        client = VoucherClient(protocol, _read_only)
        yield Seeded(data_dir, node, protocol, client, first, second, orgs)
    finally:
        node.close()


def test_programs_carry_the_source_documents_terms(seeded: Seeded) -> None:
    get = seeded.client.programs.get
    ids = seeded.first.programs
    beijing = get(ids["beijing"]).terms
    assert (beijing.face_value, beijing.min_units, beijing.max_units) == (5_000 * YUAN, 1, 40)
    assert beijing.share_bps == 5_000 and beijing.spend_regions == [110000]
    shanghai = get(ids["shanghai"]).terms
    assert shanghai.face_value == 1 and shanghai.per_holder_cap == 100_000 * YUAN
    assert shanghai.spend_regions == [310000]
    assert get(ids["zhejiang_reward"]).terms.kind == ProgramKind.REWARD
    assert get(ids["changxing"]).terms.spend_regions == [330522, 310000]
    assert get(ids["national"]).terms.spend_regions == [0]


def test_budgets_are_escrowed_by_the_finance_bureaus(seeded: Seeded) -> None:
    for program_id in seeded.first.programs.values():
        budget = seeded.client.programs.budget(program_id)
        assert budget.funded > 0
        assert budget.escrowed == budget.funded - budget.paid - budget.returned
        assert budget.outstanding_value <= budget.escrowed
    supply, minted, burned = seeded.client.money.supply()
    assert supply == minted - burned > 0


def test_vouchers_are_held_and_orders_settled(seeded: Seeded) -> None:
    c, ids = seeded.client, seeded.first.programs
    # 4 issued, 2 of them locked in the order waiting for the Beijing lab
    assert c.programs.balances(seeded.login("Zhongguancun").account)[0].units == 2
    team = c.programs.balances(seeded.login("Haidian AI start-up team").account)
    assert [(b.program_id, b.units) for b in team] == [(ids["beijing"], 2)]
    changxing = c.programs.balances(seeded.login("Changxing new-materials").account)
    assert changxing[0].value == 20_000 * YUAN  # ¥50,000 issued, ¥30,000 spent in Shanghai
    assert c.money.balance(seeded.login("Pudong biochip").account) == 100_000 * YUAN
    platform = seeded.login("Shanghai R&D public testing platform")
    (settled,) = c.orders.settlements(platform.org_id)
    assert settled.voucher_value == settled.own_funds == 30_000 * YUAN
    centre = seeded.login("Hangzhou engineering research centre")
    assert c.orders.settlements(centre.org_id)[0].rewards == 4_000 * YUAN  # 10% of ¥40,000
    assert [o.state for o in c.orders.find()].count(OrderState.PLACED) == 1


def test_institutions_list_services_in_several_categories(seeded: Seeded) -> None:
    services = seeded.client.catalogue.services()
    by_institution: dict[int, set[int]] = {}
    for s in services:
        by_institution.setdefault(s.institution_org, set()).add(s.category)
    assert len(by_institution) == 4
    assert all(len(categories) >= 2 for categories in by_institution.values())
    assert {s.category for s in services} >= {int(Category.TESTING), int(Category.RD_DESIGN)}


def test_a_second_start_loads_nothing(seeded: Seeded) -> None:
    assert not seeded.second.seeded_now
    assert seeded.second.programs == seeded.first.programs
    assert seeded.second.relayer == seeded.first.relayer
    count = int(call(seeded.protocol.registry.functions.organisationCount()))
    assert count == seeded.orgs_after_first == 1 + len(seeded.first.logins)


def test_logins_file_lists_every_api_key(seeded: Seeded) -> None:
    text = (seeded.data_dir / LOGINS_FILE).read_text()
    for login in seeded.first.logins:
        assert login.api_key.startswith("vck_") and login.api_key in text


def _app_settings(seeded: Seeded) -> tuple[Settings, Keystore]:
    settings = Settings(
        database_path=seeded.data_dir / "api.sqlite3",
        **seeded.second.settings_overrides(),
    )
    master = settings.keystore_master_key
    assert settings.keystore_path is not None and master is not None
    keystore = Keystore.open(
        settings.keystore_path, master_key=bytes.fromhex(master.get_secret_value())
    )
    return settings, keystore


def test_the_api_signs_for_demo_organisations_with_their_api_keys(seeded: Seeded) -> None:
    settings, keystore = _app_settings(seeded)
    app = create_app(settings, seeded.protocol, keystore=keystore)
    firm = seeded.login("Pudong biochip")
    ids = seeded.first.programs
    with TestClient(app) as http:
        for headers in ({"Authorization": f"Bearer {firm.api_key}"}, {"X-API-Key": firm.api_key}):
            wallet = http.get("/vouchers", headers=headers)
            assert wallet.status_code == 200, wallet.text
            assert wallet.json()["data"][0]["program_id"] == ids["shanghai"]
            assert wallet.json()["data"][0]["value"] == 100_000 * YUAN
        design = next(
            s.id
            for s in seeded.client.catalogue.services()
            if s.category == Category.RD_DESIGN and s.price == 30_000 * YUAN
        )
        medium = seeded.login("Minhang precision machinery")
        placed = http.post(
            "/orders",
            headers={"Authorization": f"Bearer {medium.api_key}", "Idempotency-Key": "test-1"},
            json={
                "service_id": design,
                "program_id": ids["shanghai"],
                "units": 15_000 * YUAN,
                "own_funds": 15_000 * YUAN,
            },
        )
        assert placed.status_code == 201, placed.text  # signed by the API's custody keystore
        platform = seeded.login("Shanghai R&D public testing platform")
        paid = http.get("/settlements", headers={"Authorization": f"Bearer {platform.api_key}"})
        assert paid.status_code == 200 and paid.json()["count"] == 1


def test_a_curl_style_call_over_http(seeded: Seeded) -> None:
    settings, keystore = _app_settings(seeded)
    app = create_app(settings, seeded.protocol, keystore=keystore)
    team = seeded.login("Haidian AI start-up team")
    with LiveServer(app) as server:
        response = httpx2.get(
            f"{server.url}/vouchers",
            headers={"Authorization": f"Bearer {team.api_key}"},
            timeout=30,
        )
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["units"] == 2

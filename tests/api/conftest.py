"""The API served by uvicorn on a loopback socket, over the in-process chain, with custodial
keys for a cast of organisations (one per role) and httpx clients logged in as each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from web3 import EthereumTesterProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from api.live import LiveServer
from api.main import create_app
from api.settings import Settings
from tests.world import BEIJING, SHANGHAI, SHANGHAI_PUDONG, YUAN, Org, World
from voucher_chain.contracts import Category, OrgKind, Protocol
from voucher_chain.signer import Keystore, LocalSigner, ScryptParams, build_forward_request

FAST = ScryptParams(n=2**4, r=8, p=1)
PASSPHRASE = "api test passphrase"
SECRET = "test-token-secret-of-at-least-32-characters"
ROLES = ("enterprise", "institution", "issuer", "finance", "regulator", "governor")


class SerialProvider(EthereumTesterProvider):
    """eth-tester is not thread-safe: the server's threads take turns."""

    def __init__(self, tester: Any) -> None:
        super().__init__(tester)
        self._lock = threading.Lock()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            return super().make_request(method, params)


def fund_gas(world: World, account: str) -> None:
    """ETH for gas where the chain charges it (eth-tester); the embedded node's gas is free."""
    if world.w3.eth.get_balance(Web3.to_checksum_address(world.governor.account)) > 0:
        world.w3.eth.send_transaction(
            {"from": world.governor.account, "to": account, "value": Web3.to_wei(10, "ether")}
        )


@dataclass
class Scene:
    """The chain, the keys, the running API, and one organisation per role."""

    world: World
    keystore: Keystore
    settings: Settings
    url: str
    orgs: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, **headers: str) -> httpx2.Client:
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return httpx2.Client(base_url=self.url, headers=headers, timeout=60)

    def login(self, account: str) -> str:
        with httpx2.Client(base_url=self.url, timeout=60) as http:
            challenge = http.post("/auth/challenge", json={"account": account})
            assert challenge.status_code == 201, challenge.text
            body = challenge.json()
            signature = LocalSigner(self.keystore).sign_message(account, body["text"])
            token = http.post(
                "/auth/token",
                json={"challenge_id": body["challenge_id"], "signature": "0x" + signature.hex()},
            )
            assert token.status_code == 200, token.text
            return str(token.json()["access_token"])

    def governor(self) -> Org:
        """The governor (organisation 1) through a second account whose key the API holds."""
        gov = self.world.governor
        account = self.keystore.generate(org_id=gov.id, label="governor")
        fund_gas(self.world, account)
        self.world.send(self.world.p.registry.functions.addAccount(gov.id, account), gov)
        return Org(id=gov.id, kind=gov.kind, region=gov.region, account=account, vault=gov.vault)

    def custodial(self, kind: OrgKind, region: int, *, accredit: bool = False) -> Any:
        """An organisation whose only key the API holds, with ETH for eth-tester's gas."""
        account = self.keystore.generate(org_id=None, label=kind.name.lower())
        fund_gas(self.world, account)
        org = self.world.register(kind, region, account=account, employees=20)
        if accredit:
            self.world.send(
                self.world.p.catalogue.functions.accredit(org.id, Category.mask()),
                self.world.governor,
            )
        return org


def build_scene(tester: EthereumTester, w3: Web3, protocol: Protocol, tmp: Path) -> Iterator[Scene]:
    world = World(tester=tester, w3=w3, protocol=protocol)
    keystore = Keystore.create(tmp / "keys.json", passphrase=PASSPHRASE, scrypt=FAST)
    relayer = keystore.generate(org_id=None, label="relayer")
    fund_gas(world, relayer)
    # The relayer must be allowed to send (the embedded node admits registered accounts only):
    # here it is a second account of the governor.
    world.send(protocol.registry.functions.addAccount(1, relayer), world.governor)
    settings = Settings(
        environment="development",
        token_secret=SECRET,  # type: ignore[arg-type]
        database_path=tmp / "api.sqlite3",
        relayer_account=relayer,
    )
    # eth-tester is not thread-safe: the server's threads take turns; a JSON-RPC node is shared.
    served_w3 = Web3(SerialProvider(tester)) if isinstance(tester, EthereumTester) else w3
    served = Protocol.at(served_w3, protocol.addresses())
    app = create_app(settings, served, keystore=keystore)
    with LiveServer(app) as server:
        scene = Scene(world=world, keystore=keystore, settings=settings, url=server.url)
        scene.orgs["issuer"] = scene.custodial(OrgKind.ISSUER, SHANGHAI)
        scene.orgs["finance"] = scene.custodial(OrgKind.FINANCE, SHANGHAI)
        scene.orgs["enterprise"] = scene.custodial(OrgKind.ENTERPRISE, SHANGHAI_PUDONG)
        scene.orgs["institution"] = scene.custodial(
            OrgKind.INSTITUTION, SHANGHAI_PUDONG, accredit=True
        )
        scene.orgs["regulator"] = scene.custodial(OrgKind.REGULATOR, BEIJING)
        scene.orgs["governor"] = scene.governor()
        for role in ROLES:
            scene.tokens[role] = scene.login(scene.orgs[role].account)
        yield scene


@pytest.fixture
def scene(world: World, tmp_path: Path) -> Iterator[Scene]:
    yield from build_scene(world.tester, world.w3, world.p, tmp_path)


def signed_application(
    scene: Scene, wallet: LocalAccount, program_id: int, units: int, request: bytes
) -> dict[str, Any]:
    """A /relay body: ``applyForVouchers`` as an EIP-712 ForwardRequest signed by ``wallet``."""
    p = scene.world.p
    data = p.programs.encode_abi("applyForVouchers", args=[program_id, units, request])
    typed = build_forward_request(
        p.forwarder,
        wallet.address,
        p.programs.address,
        data,
        gas=1_000_000,
        deadline=scene.world.now() + 600,
    )
    signature = Account.sign_typed_data(wallet.key, full_message=typed).signature.hex()
    return {"request": typed, "signature": signature}


def create_program(
    scene: Scene, *, spend_regions: list[int], budget: int = 1_000_000 * YUAN
) -> int:
    """A Shanghai quota program (1 unit = 1 fen, 50% voucher share) created and funded via HTTP."""
    now = scene.world.now()
    terms = {
        "fiscal_year": 2026,
        "finance_org": scene.orgs["finance"].id,
        "spend_regions": spend_regions,
        "issue_start": now,
        "issue_end": now + 180 * 86400,
        "expiry": now + 300 * 86400,
        "settlement_deadline": now + 330 * 86400,
    }
    with scene.client("issuer") as issuer:
        created = issuer.post("/programs", json=terms)
        assert created.status_code == 201, created.text
    program_id = int(created.json()["id"])
    scene.world.deposit(scene.orgs["finance"], budget)
    with scene.client("finance", **{"Idempotency-Key": f"fund-{program_id}"}) as finance:
        funded = finance.post(f"/programs/{program_id}/fund", json={"amount": budget})
        assert funded.status_code == 200, funded.text
    return program_id

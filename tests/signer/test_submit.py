"""The submitter: gap-free nonces under concurrent callers, reverts before sending, retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eth_typing import ChecksumAddress
from web3 import EthereumTesterProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from tests.world import SHANGHAI, World, reverts
from voucher_chain.contracts import OrgKind, Protocol
from voucher_chain.signer import Keystore, LocalSigner, Submitter

from .conftest import FAST, PASSPHRASE


class SerialProvider(EthereumTesterProvider):
    """eth-tester is not thread-safe: one request at a time; optionally fail some sends."""

    def __init__(self, tester: Any, *, fail_sends: int = 0) -> None:
        super().__init__(tester)
        self._lock = threading.Lock()
        self.fail_sends = fail_sends
        self.raw_sends = 0

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self._lock:
            if method == "eth_sendRawTransaction":
                self.raw_sends += 1
                if self.fail_sends:
                    self.fail_sends -= 1
                    raise ConnectionError("simulated transport failure")
            return super().make_request(method, params)


@pytest.fixture
def signer_world(
    world: World, tmp_path: Any
) -> Iterator[tuple[World, LocalSigner, ChecksumAddress]]:
    """An enterprise whose key lives in an encrypted keystore, funded for eth-tester's gas."""
    keystore = Keystore.create(tmp_path / "ks.json", passphrase=PASSPHRASE, scrypt=FAST)
    signer = LocalSigner(keystore)
    account = Web3.to_checksum_address(keystore.generate(org_id=None, label="enterprise"))
    world.register(OrgKind.ENTERPRISE, SHANGHAI, account=account)
    world.w3.eth.send_transaction(
        {"from": world.governor.account, "to": account, "value": Web3.to_wei(10, "ether")}
    )
    yield world, signer, account


def _submitter(world: World, signer: LocalSigner, **kw: Any) -> tuple[Submitter, Protocol]:
    provider = SerialProvider(world.tester, **kw)
    w3 = Web3(provider)
    protocol = Protocol.at(w3, world.p.addresses())
    return Submitter(w3, signer, backoff=0.0), protocol


def test_twenty_threads_get_gap_free_nonces_and_all_land(
    signer_world: tuple[World, LocalSigner, ChecksumAddress],
) -> None:
    world, signer, account = signer_world
    submitter, protocol = _submitter(world, signer)
    start = world.w3.eth.get_transaction_count(account)
    # Each thread approves a different allowance: 20 independent transactions from one account.
    spender = world.new_account()

    def send(i: int) -> int:
        fn = protocol.settlement.functions.approve(spender, i + 1)
        receipt = submitter.transact(fn, account)
        tx = world.w3.eth.get_transaction(receipt["transactionHash"])
        return int(tx["nonce"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        nonces = sorted(pool.map(send, range(20)))
    assert nonces == list(range(start, start + 20))
    assert world.w3.eth.get_transaction_count(account) == start + 20


def test_a_refused_transaction_consumes_no_nonce(
    signer_world: tuple[World, LocalSigner, ChecksumAddress],
) -> None:
    world, signer, account = signer_world
    submitter, protocol = _submitter(world, signer)
    start = world.w3.eth.get_transaction_count(account)
    with reverts("ProtocolUnauthorizedAccount"):
        submitter.transact(protocol.catalogue.functions.addCategory("hardware"), account)
    submitter.transact(protocol.settlement.functions.approve(world.new_account(), 1), account)
    assert world.w3.eth.get_transaction_count(account) == start + 1


def test_transient_send_failures_are_retried_with_the_same_bytes(
    signer_world: tuple[World, LocalSigner, ChecksumAddress],
) -> None:
    world, signer, account = signer_world
    submitter, protocol = _submitter(world, signer, fail_sends=2)
    start = world.w3.eth.get_transaction_count(account)
    receipt = submitter.transact(
        protocol.settlement.functions.approve(world.new_account(), 5), account
    )
    assert receipt["status"] == 1
    assert world.w3.eth.get_transaction_count(account) == start + 1
    provider = submitter.w3.provider
    assert isinstance(provider, SerialProvider) and provider.raw_sends == 3


def test_transport_failure_beyond_the_retries_is_raised(
    signer_world: tuple[World, LocalSigner, ChecksumAddress],
) -> None:
    world, signer, account = signer_world
    submitter, protocol = _submitter(world, signer, fail_sends=10)
    with pytest.raises(ConnectionError):
        submitter.transact(protocol.settlement.functions.approve(world.new_account(), 5), account)

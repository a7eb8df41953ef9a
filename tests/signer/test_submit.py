"""The submitter: gap-free nonces under concurrent callers, reverts before sending, retries,
gas limits within the block's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eth_typing import ChecksumAddress
from web3 import EthereumTesterProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from scripts.bench_evm import init_code
from tests.world import SHANGHAI, World, reverts
from voucher_chain.contracts import OrgKind, Protocol, call
from voucher_chain.signer import Keystore, LocalSigner, Submitter
from voucher_chain.signer.submit import gas_with_margin

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


def test_a_call_made_dearer_after_its_estimate_still_lands(
    signer_world: tuple[World, LocalSigner, ChecksumAddress], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The allowance slot is non-zero at the estimate; the spender empties it before the
    approval is signed, so the approval writes a fresh slot (~17,000 gas more than estimated):
    the submitter's gas margin absorbs it (scripts/bench hit this with concurrent orders)."""
    world, signer, account = signer_world
    st = world.p.settlement
    inst, bank = world.institution(SHANGHAI), world.bank()
    world.send(st.functions.mint(account, 10, world.request_id()), bank)
    submitter, protocol = _submitter(world, signer)
    submitter.transact(protocol.settlement.functions.approve(inst.account, 5), account)
    approve = protocol.settlement.functions.approve(inst.account, 7)
    estimate = approve.estimate_gas({"from": account})
    sign = signer.sign_transaction

    def meddle_then_sign(address: str, tx: Any) -> Any:
        world.send(st.functions.transferFrom(account, bank.account, 5), inst)
        return sign(address, tx)

    monkeypatch.setattr(signer, "sign_transaction", meddle_then_sign)
    receipt = submitter.transact(approve, account)
    assert receipt["status"] == 1
    assert receipt["gasUsed"] > estimate  # the call did get dearer after its estimate
    assert call(st.functions.allowance(account, inst.account)) == 7
    assert world.balance(bank) == 5
    assert gas_with_margin(estimate) > receipt["gasUsed"]


def _gas_burner(world: World, slots: int) -> Any:
    """A contract whose every call writes ``slots`` fresh storage slots (~22,130 gas each)."""
    n = slots.to_bytes(2, "big")
    # PUSH2 n | loop: JUMPDEST DUP1 DUP1 SSTORE PUSH1 1 SWAP1 SUB DUP1 PUSH1 3 JUMPI | STOP
    runtime = bytes([0x61, *n, 0x5B, 0x80, 0x80, 0x55, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 3, 0x57])
    created = world.w3.eth.send_transaction(
        {"from": world.governor.account, "data": init_code(runtime + b"\x00")}
    )
    address = world.w3.eth.wait_for_transaction_receipt(created)["contractAddress"]
    abi = [{"type": "function", "name": "burn", "inputs": [], "outputs": []}]
    return world.w3.eth.contract(address=address, abi=abi)


def test_a_call_near_the_block_gas_limit_is_sent_with_at_most_the_limit(
    signer_world: tuple[World, LocalSigner, ChecksumAddress],
) -> None:
    """The margin over an estimate of ~24M gas would ask for more than the block's 30M: every
    node refuses such a transaction, though the call itself fits. The submitter sends the
    block gas limit instead."""
    world, signer, account = signer_world
    burner = _gas_burner(world, 1_085)
    submitter, _ = _submitter(world, signer)
    fn = submitter.w3.eth.contract(address=burner.address, abi=burner.abi).functions.burn()
    estimate = fn.estimate_gas({"from": account})
    limit = submitter.w3.eth.get_block("latest")["gasLimit"]
    assert estimate < limit < gas_with_margin(estimate)
    receipt = submitter.transact(fn, account)
    assert receipt["status"] == 1
    assert submitter.w3.eth.get_transaction(receipt["transactionHash"])["gas"] == limit

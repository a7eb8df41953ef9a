"""The SDK's Submitter waits for receipts on the embedded node without polling."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from web3 import EthereumTesterProvider, Web3
from web3.providers import HTTPProvider
from web3.types import RPCEndpoint, RPCResponse, Wei

from tests.node.conftest import DevChain
from voucher_chain.contracts import OrgKind, Protocol, transact
from voucher_chain.signer import Keystore, LocalSigner, ScryptParams, Submitter
from voucher_chain.signer.submit import PUSHED_RECEIPT_WAIT


class CountingProvider(HTTPProvider):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()  # below web3's request cache: over the wire

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.calls[str(method)] += 1
        return super().make_request(method, params)

    def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        self.sent[str(method)] += 1
        return super()._make_request(method, request_data)


def _signer(tmp_path: Path) -> LocalSigner:
    return LocalSigner(
        Keystore.create(
            tmp_path / "ks.json", passphrase="correct horse", scrypt=ScryptParams(n=2**4, r=8, p=1)
        )
    )


def test_receipts_are_pushed_not_polled(dev_chain: DevChain, tmp_path: Path) -> None:
    signer = _signer(tmp_path)
    sender = Web3.to_checksum_address(signer.keystore.generate(org_id=None, label="issuer"))
    org_id, account = dev_chain.register(OrgKind.ISSUER)
    # the keystore's account joins that organisation (permissioning admits it)
    transact(
        dev_chain.protocol.registry.functions.addAccount(org_id, sender), dev_chain.governor.address
    )
    provider = CountingProvider(dev_chain.server.url)
    w3 = Web3(provider)
    protocol = Protocol.at(w3, dev_chain.protocol.addresses())
    submitter = Submitter(w3, signer)
    provider.calls.clear()
    provider.sent.clear()
    receipts = []
    for i in range(5):
        fn = protocol.settlement.functions.approve(account.address, i + 1)
        receipts.append(submitter.transact(fn, sender))
        assert receipts[-1]["status"] == 1
    assert provider.calls[PUSHED_RECEIPT_WAIT] == 5
    assert provider.calls["eth_getTransactionReceipt"] == 0  # the pushed one is formatted here
    # exactly as web3 formats the receipt it fetches itself (types included: HexBytes, ints)
    for receipt in receipts:
        fetched = w3.eth.get_transaction_receipt(receipt["transactionHash"])
        assert receipt == fetched
        assert {k: type(v) for k, v in receipt.items()} == {k: type(v) for k, v in fetched.items()}
        logs = protocol.settlement.events.Approval().process_receipt(receipt)
        assert [e["args"]["value"] for e in logs] == [
            e["args"]["value"]
            for e in protocol.settlement.events.Approval().process_receipt(fetched)
        ]
    # web3 asks for the chain id several times per transaction; the cache keys on the params'
    # form, and web3 passes them two ways ([] and ()): at most two requests reach the node
    assert provider.calls["eth_chainId"] >= 10
    assert provider.sent["eth_chainId"] <= 2
    # the node's fees are zero: asked for the first transaction only, then sent as zero
    assert provider.sent["eth_maxPriorityFeePerGas"] == 1
    assert provider.sent["eth_estimateGas"] == provider.calls["eth_estimateGas"] == 5  # uncached


class CountingTesterProvider(EthereumTesterProvider):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.calls[str(method)] += 1
        return super().make_request(method, params)


def test_other_nodes_are_polled_and_asked_only_once(tmp_path: Path) -> None:
    """A node without the pushed wait answers "method not found" once; then the Submitter
    polls, as web3 does (here eth-tester, which mines each transaction at once)."""
    provider = CountingTesterProvider()
    w3 = Web3(provider)
    submitter = Submitter(w3, _signer(tmp_path))
    funded = w3.eth.accounts[0]
    for _ in range(3):
        tx_hash = w3.eth.send_transaction({"from": funded, "to": funded, "value": Wei(0)})
        assert submitter.wait(tx_hash)["status"] == 1
    assert provider.calls[PUSHED_RECEIPT_WAIT] == 1
    assert provider.calls["eth_getTransactionReceipt"] == 3

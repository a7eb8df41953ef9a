"""web3.py's HTTPProvider against the node, with no special-casing: deploy, call, transact,
decode a custom error (``ContractCustomError``, as against a public node) and read logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from eth_account import Account
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD
from web3.middleware import SignAndSendRawMiddlewareBuilder

from tests.node.conftest import DevChain
from voucher_chain import ContractRevert
from voucher_chain.contracts import OrgKind, deploy_protocol, protocol_error_decoder, transact
from voucher_chain.node import RpcServer


@pytest.fixture(scope="module")
def http_w3(dev_chain: DevChain) -> Web3:
    w3 = Web3(HTTPProvider(dev_chain.server.url))
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(dev_chain.governor), layer=0)
    return w3


def test_identity_and_fees(dev_chain: DevChain, http_w3: Web3) -> None:
    assert http_w3.is_connected()
    assert http_w3.eth.chain_id == dev_chain.node.chain_id
    assert http_w3.net.version == str(dev_chain.node.chain_id)
    assert http_w3.eth.gas_price == 0
    assert http_w3.eth.max_priority_fee == 0
    assert http_w3.eth.fee_history(3, "latest", [50])["baseFeePerGas"][-1] == 0
    block = http_w3.eth.get_block("latest", full_transactions=True)
    assert block["number"] == http_w3.eth.block_number
    assert block["baseFeePerGas"] == 0
    assert http_w3.eth.get_block(block["hash"])["number"] == block["number"]


def test_deploy_call_transact_custom_error_and_logs(dev_chain: DevChain, http_w3: Web3) -> None:
    governor = dev_chain.governor.address
    protocol = deploy_protocol(
        http_w3, governor, governor_credit_code_hash=Web3.keccak(text="HTTP-GOVERNOR")
    )
    registry = protocol.registry
    assert http_w3.eth.get_code(registry.address) != b""
    assert registry.functions.organisationCount().call() == 1
    assert registry.functions.isActiveAccount(governor).call() is True

    account = Account.create().address
    code = Web3.keccak(text="HTTP-ISSUER")
    register = registry.functions.registerOrganisation(
        int(OrgKind.ISSUER), 310000, code, 10, 6510, b"\x00" * 32, account
    )
    tx_hash = register.transact({"from": governor})
    receipt = http_w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)
    assert receipt["status"] == 1
    assert http_w3.eth.get_transaction(tx_hash)["from"] == governor
    assert http_w3.eth.get_transaction_count(
        governor, "pending"
    ) == http_w3.eth.get_transaction_count(governor)
    (event,) = registry.events.OrganisationRegistered().process_receipt(receipt, errors=DISCARD)
    org_id = event["args"]["orgId"]

    # the same credit code again: a Solidity custom error, raised by web3 itself
    again = registry.functions.registerOrganisation(
        int(OrgKind.ISSUER), 310000, code, 10, 6510, b"\x00" * 32, Account.create().address
    )
    with pytest.raises(ContractCustomError) as caught:
        again.transact({"from": governor})
    data = caught.value.data
    assert isinstance(data, str)
    decoded = protocol_error_decoder().decode(bytes.fromhex(data[2:]))
    assert decoded.name == "RegistryDuplicateCreditCode"
    assert decoded.args_by_name["existingOrgId"] == org_id
    with pytest.raises(ContractRevert) as revert:
        transact(again, governor)
    assert revert.value.name == "RegistryDuplicateCreditCode"

    logs = registry.events.OrganisationRegistered.get_logs(
        from_block=0, argument_filters={"orgId": org_id}
    )
    assert [log["transactionHash"] for log in logs] == [tx_hash]
    raw_logs = http_w3.eth.get_logs(
        {"fromBlock": receipt["blockNumber"], "toBlock": "latest", "address": registry.address}
    )
    assert {log["transactionHash"] for log in raw_logs} == {tx_hash}
    assert http_w3.eth.get_logs({"blockHash": receipt["blockHash"]})


def test_errors_per_json_rpc_spec(http_w3: Web3) -> None:
    provider = http_w3.provider
    assert isinstance(provider, HTTPProvider)
    assert provider.make_request("eth_noSuchMethod", [])["error"]["code"] == -32601
    bad = provider.make_request("eth_getBalance", ["0x12"])
    assert bad["error"]["code"] == -32602
    missing = provider.make_request("eth_getTransactionReceipt", ["0x" + "00" * 32])
    assert missing["result"] is None


def test_bearer_token_guards_every_request(dev_chain: DevChain) -> None:
    server = RpcServer(dev_chain.node, port=0, token="s3cret").start()
    try:
        assert not Web3(HTTPProvider(server.url)).is_connected()
        authed = HTTPProvider(
            server.url, request_kwargs={"headers": {"Authorization": "Bearer s3cret"}}
        )
        assert Web3(authed).eth.chain_id == dev_chain.node.chain_id
    finally:
        server.stop()


def test_every_client_sends_the_configured_token(
    dev_chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    from api.main import connect
    from api.settings import Settings
    from voucher_chain.connect import TOKEN_ENV, http_web3

    server = RpcServer(dev_chain.node, port=0, token="s3cret").start()
    try:
        monkeypatch.delenv(TOKEN_ENV, raising=False)
        with pytest.raises(requests.HTTPError, match="401"):
            http_web3(server.url).eth.get_block_number()
        with pytest.raises(requests.HTTPError, match="401"):
            http_web3(server.url, "wrong").eth.get_block_number()
        assert http_web3(server.url, "s3cret").eth.chain_id == dev_chain.node.chain_id
        monkeypatch.setenv(TOKEN_ENV, "s3cret")  # the CLIs (indexer, besu) take it from here
        assert http_web3(server.url).eth.chain_id == dev_chain.node.chain_id
        monkeypatch.delenv(TOKEN_ENV)

        # the API's own setting (VOUCHER_CHAIN_RPC_TOKEN in its environment)
        deployment = tmp_path / "protocol.json"
        addresses = {name: str(a) for name, a in dev_chain.protocol.addresses().items()}
        deployment.write_text(json.dumps(addresses))
        settings = Settings(
            rpc_url=server.url, deployment_path=deployment, rpc_token=SecretStr("s3cret")
        )
        protocol, _ = connect(settings)
        assert protocol.addresses() == dev_chain.protocol.addresses()
        code = protocol.w3.eth.get_code(protocol.registry.address)  # through the token
        assert code == dev_chain.w3.eth.get_code(dev_chain.protocol.registry.address) != b""
    finally:
        server.stop()

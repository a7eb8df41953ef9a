"""Admission: every refused transaction is a clear JSON-RPC error and changes nothing."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import rlp
from eth.constants import SECPK1_N
from eth_account import Account
from web3 import Web3

from tests.node.conftest import DevChain
from voucher_chain.contracts import OrgKind, transact
from voucher_chain.node import RpcError
from voucher_chain.node.rpc import Dispatcher


def _send(chain: DevChain, raw: bytes) -> Any:
    return Dispatcher(chain.node).call("eth_sendRawTransaction", ["0x" + raw.hex()])


def _unregistered(chain: DevChain) -> bytes:
    return chain.raw(Account.create())


def _suspended(chain: DevChain) -> bytes:
    org_id, account = chain.register(OrgKind.ISSUER)
    transact(chain.protocol.registry.functions.suspend(org_id, 7), chain.governor.address)
    return chain.raw(account)


def _wrong_chain_id(chain: DevChain) -> bytes:
    return chain.raw(chain.governor, chainId=1)


def _legacy_without_chain_id(chain: DevChain) -> bytes:
    nonce = chain.node.pending_nonce(bytes.fromhex(chain.governor.address[2:]))
    tx: dict[str, Any] = {
        "nonce": nonce,
        "gas": 21_000,
        "gasPrice": 0,
        "to": chain.governor.address,
        "value": 0,
    }
    return bytes(chain.governor.sign_transaction(tx).raw_transaction)


def _create_by_non_governor(chain: DevChain) -> bytes:
    _, account = chain.register(OrgKind.ISSUER)
    return chain.raw(account, to=b"", data=b"\x60\x00\x60\x00\xf3")


def _nonce_too_high(chain: DevChain) -> bytes:
    nonce = chain.node.pending_nonce(bytes.fromhex(chain.governor.address[2:]))
    return chain.raw(chain.governor, nonce=nonce + 5)


def _nonce_too_low(chain: DevChain) -> bytes:
    return chain.raw(chain.governor, nonce=0)


def _malformed(chain: DevChain) -> bytes:
    return b"\x02\xf8\xff\x01\x02"


def _bad_signature(chain: DevChain) -> bytes:
    raw = bytearray(chain.raw(chain.governor))
    raw[-5] ^= 0xFF
    return bytes(raw)


def _high_s(chain: DevChain) -> bytes:
    """The same transaction with the other valid signature (s → n − s, parity flipped): it
    recovers the same sender, but EIP-2 allows only the low s (as geth does)."""
    fields = rlp.decode(chain.raw(chain.governor)[1:])
    parity = int.from_bytes(fields[9], "big")
    fields[9] = rlp.sedes.big_endian_int.serialize(1 - parity)
    fields[11] = rlp.sedes.big_endian_int.serialize(SECPK1_N - int.from_bytes(fields[11], "big"))
    return b"\x02" + bytes(rlp.encode(fields))


def _oversized(chain: DevChain) -> bytes:
    return chain.raw(chain.governor, data=b"\x01" * (129 * 1024), gas=30_000_000)


CASES: list[tuple[str, Callable[[DevChain], bytes], str, str]] = [
    ("unregistered sender", _unregistered, "permission", "not an active account"),
    ("suspended organisation", _suspended, "permission", "not an active account"),
    ("wrong chain id", _wrong_chain_id, "chain_id", "signed for chain id 1"),
    ("no chain id", _legacy_without_chain_id, "chain_id", "pre-EIP-155"),
    ("creation by non-governor", _create_by_non_governor, "create", "only the governor deploys"),
    ("nonce too high", _nonce_too_high, "nonce", "nonce too high"),
    ("nonce too low", _nonce_too_low, "nonce", "nonce too low"),
    ("malformed RLP", _malformed, "malformed", "malformed transaction"),
    ("bad signature", _bad_signature, "", ""),
    ("high s (EIP-2)", _high_s, "malformed", "s value above secp256k1n/2"),
    ("oversized", _oversized, "oversized", "exceeds the 131072-byte limit"),
]


@pytest.mark.parametrize(
    ("build", "reason", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_refused_with_reason_and_no_state_change(
    dev_chain: DevChain, build: Callable[[DevChain], bytes], reason: str, text: str
) -> None:
    raw = build(dev_chain)
    node = dev_chain.node
    head = node.head()
    with pytest.raises(RpcError) as caught:
        _send(dev_chain, raw)
    error = caught.value
    if reason:
        assert error.data == {"reason": reason}
        assert text in error.message
    else:  # a corrupted signature recovers another (unregistered) sender, or none at all
        assert error.data["reason"] in {"permission", "malformed"}
    assert error.code in (-32000, -32003)
    assert node.pending_count() == 0
    assert node.head().hash == head.hash


def test_rejection_over_http_is_a_json_rpc_error(dev_chain: DevChain) -> None:
    raw = _wrong_chain_id(dev_chain)
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "eth_sendRawTransaction",
            "params": ["0x" + raw.hex()],
        }
    ).encode()
    request = urllib.request.Request(
        dev_chain.server.url, body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["id"] == 7
    assert answer["error"]["code"] == -32003
    assert "chain id 1" in answer["error"]["message"]


def test_registered_then_suspended_account_is_refused_after_acceptance(
    dev_chain: DevChain,
) -> None:
    org_id, account = dev_chain.register(OrgKind.ISSUER)
    tx_hash = _send(dev_chain, dev_chain.raw(account))
    receipt = dev_chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)
    assert receipt["status"] == 1
    transact(dev_chain.protocol.registry.functions.suspend(org_id, 1), dev_chain.governor.address)
    with pytest.raises(RpcError, match="not an active account"):
        _send(dev_chain, dev_chain.raw(account))
    transact(dev_chain.protocol.registry.functions.reinstate(org_id), dev_chain.governor.address)
    assert Web3.to_checksum_address(account.address)
    _send(dev_chain, dev_chain.raw(account))


def test_next_nonce_follows_the_blocks(dev_chain: DevChain) -> None:
    """The node's nonce cache is advanced by each block: the nonce a block used is refused
    afterwards, the next one is accepted at once."""
    _, account = dev_chain.register(OrgKind.ISSUER)
    first = dev_chain.raw(account)
    dev_chain.w3.eth.wait_for_transaction_receipt(_send(dev_chain, first), timeout=10)
    with pytest.raises(RpcError, match="nonce too low: next nonce 1, tx nonce 0"):
        _send(dev_chain, first)
    second = dev_chain.raw(account)
    dev_chain.w3.eth.wait_for_transaction_receipt(_send(dev_chain, second), timeout=10)
    assert dev_chain.node.pending_nonce(bytes.fromhex(account.address[2:])) == 2

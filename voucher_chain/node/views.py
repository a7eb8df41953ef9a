"""JSON-RPC views of py-evm blocks, transactions, receipts and logs (hex strings, camelCase)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI
from eth_utils.address import to_checksum_address

__all__ = [
    "block_view",
    "hexb",
    "hexq",
    "receipt_and_logs",
    "transaction_view",
]

_ZERO_ADDRESS = b"\x00" * 20


def hexq(value: int) -> str:
    """A JSON-RPC quantity."""
    return hex(value)


def hexb(value: bytes) -> str:
    """JSON-RPC data."""
    return "0x" + bytes(value).hex()


@functools.lru_cache(maxsize=8192)
def _checksum(value: bytes) -> str:
    return to_checksum_address(value)


def _addr(value: bytes) -> str:
    """EIP-55 spelling (a keccak per call: cached, as the same accounts recur)."""
    return _checksum(bytes(value))


def transaction_view(
    tx: SignedTransactionAPI, *, block_hash: bytes, block_number: int, index: int
) -> dict[str, Any]:
    type_id = tx.type_id or 0
    view: dict[str, Any] = {
        "blockHash": hexb(block_hash),
        "blockNumber": hexq(block_number),
        "from": _addr(tx.sender),
        "gas": hexq(tx.gas),
        "gasPrice": hexq(0),
        "hash": hexb(tx.hash),
        "input": hexb(tx.data),
        "nonce": hexq(tx.nonce),
        "to": _addr(tx.to) if tx.to else None,
        "transactionIndex": hexq(index),
        "value": hexq(tx.value),
        "type": hexq(type_id),
        "r": hexq(tx.r),
        "s": hexq(tx.s),
    }
    if tx.chain_id is not None:
        view["chainId"] = hexq(tx.chain_id)
    if type_id == 0:
        view["v"] = hexq(tx.v)  # type: ignore[attr-defined]
    else:
        view["v"] = hexq(tx.y_parity)
        view["yParity"] = hexq(tx.y_parity)
        view["accessList"] = [
            {"address": _addr(a), "storageKeys": [hexb(k.to_bytes(32, "big")) for k in keys]}
            for a, keys in tx.access_list
        ]
    if type_id >= 2:
        view["maxFeePerGas"] = hexq(tx.max_fee_per_gas)
        view["maxPriorityFeePerGas"] = hexq(tx.max_priority_fee_per_gas)
    return view


def receipt_and_logs(
    tx: SignedTransactionAPI,
    receipt: ReceiptAPI,
    *,
    block_hash: bytes,
    block_number: int,
    index: int,
    gas_used: int,
    first_log_index: int,
    contract_address: bytes | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The receipt view and its logs' views (logs are also indexed on their own)."""
    logs = [
        {
            "address": _addr(log.address),
            "topics": [hexb(t.to_bytes(32, "big")) for t in log.topics],
            "data": hexb(log.data),
            "blockNumber": hexq(block_number),
            "blockHash": hexb(block_hash),
            "transactionHash": hexb(tx.hash),
            "transactionIndex": hexq(index),
            "logIndex": hexq(first_log_index + i),
            "removed": False,
        }
        for i, log in enumerate(receipt.logs)
    ]
    view = {
        "blockHash": hexb(block_hash),
        "blockNumber": hexq(block_number),
        "contractAddress": _addr(contract_address) if contract_address else None,
        "cumulativeGasUsed": hexq(receipt.gas_used),
        "effectiveGasPrice": hexq(0),
        "from": _addr(tx.sender),
        "gasUsed": hexq(gas_used),
        "logs": logs,
        "logsBloom": hexb(receipt.bloom.to_bytes(256, "big")),
        "status": hexq(1 if receipt.state_root == b"\x01" else 0),
        "to": _addr(tx.to) if tx.to else None,
        "transactionHash": hexb(tx.hash),
        "transactionIndex": hexq(index),
        "type": hexq(tx.type_id or 0),
    }
    return view, logs


def header_view(header: BlockHeaderAPI) -> dict[str, Any]:
    view: dict[str, Any] = {
        "number": hexq(header.block_number),
        "hash": hexb(header.hash),
        "parentHash": hexb(header.parent_hash),
        "nonce": hexb(header.nonce),
        "mixHash": hexb(header.mix_hash),
        "sha3Uncles": hexb(header.uncles_hash),
        "logsBloom": hexb(header.bloom.to_bytes(256, "big")),
        "transactionsRoot": hexb(header.transaction_root),
        "stateRoot": hexb(header.state_root),
        "receiptsRoot": hexb(header.receipt_root),
        "miner": _addr(header.coinbase),
        "difficulty": hexq(header.difficulty),
        "totalDifficulty": hexq(0),
        "extraData": hexb(header.extra_data),
        "gasLimit": hexq(header.gas_limit),
        "gasUsed": hexq(header.gas_used),
        "timestamp": hexq(header.timestamp),
        "baseFeePerGas": hexq(0),
    }
    for field, key in (
        ("withdrawals_root", "withdrawalsRoot"),
        ("parent_beacon_block_root", "parentBeaconBlockRoot"),
        ("requests_hash", "requestsHash"),
    ):
        value = getattr(header, field, None)
        if value is not None:
            view[key] = hexb(value)
    for field, key in (("blob_gas_used", "blobGasUsed"), ("excess_blob_gas", "excessBlobGas")):
        value = getattr(header, field, None)
        if value is not None:
            view[key] = hexq(value)
    return view


def block_view(
    block: BlockAPI, *, full: bool, transactions: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``transactions``: the stored views, when ``full`` (saves re-deriving senders)."""
    view = header_view(block.header)
    view["size"] = hexq(len(_encode_block(block)))
    view["uncles"] = []
    view["withdrawals"] = []
    if full:
        if transactions is None:
            transactions = [
                transaction_view(tx, block_hash=block.hash, block_number=block.number, index=i)
                for i, tx in enumerate(block.transactions)
            ]
        view["transactions"] = list(transactions)
    else:
        view["transactions"] = [hexb(tx.hash) for tx in block.transactions]
    return view


def _encode_block(block: BlockAPI) -> bytes:
    import rlp

    return bytes(rlp.encode(block))

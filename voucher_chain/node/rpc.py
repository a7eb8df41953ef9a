"""Ethereum JSON-RPC: one dispatcher, ``(method, params) → result``, for every transport.

The in-process web3 provider and the HTTP server both call :meth:`Dispatcher.call`; errors are
:class:`RpcError` carrying the JSON-RPC ``code``/``message``/``data``. A revert is code 3,
``execution reverted``, with the revert data as hex in ``data`` — what geth answers, so web3.py
raises ``ContractCustomError``/``ContractLogicError`` exactly as against a public node.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from eth_account import Account
from eth_typing import BlockNumber
from eth_utils.address import to_checksum_address
from eth_utils.hexadecimal import is_hex

import voucher_chain
from voucher_chain.node import views
from voucher_chain.node.core import Node
from voucher_chain.node.errors import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    RpcError,
)
from voucher_chain.node.execution import CALL_GAS_CAP, READS, Kind

__all__ = ["CLIENT_VERSION", "Dispatcher", "handle_request"]

CLIENT_VERSION = f"VoucherChain/{voucher_chain.__version__}/py-evm"
#: At most this many logs per eth_getLogs answer (as public nodes cap them).
MAX_LOGS = 10_000
#: The longest voucherchain_waitForTransactionReceipt waits, in milliseconds.
MAX_RECEIPT_WAIT_MS = 60_000
_ZERO = b"\x00" * 20

Handler = Callable[[list[Any]], Any]


def _param(params: list[Any], index: int, default: Any = None) -> Any:
    return params[index] if len(params) > index else default


def _quantity(value: Any, name: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(INVALID_PARAMS, f"invalid {name}: {value!r} (expected a 0x quantity)")


def _data(value: Any, name: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, str) and value.startswith("0x") and is_hex(value) and len(value) % 2 == 0:
        return bytes.fromhex(value[2:])
    raise RpcError(INVALID_PARAMS, f"invalid {name}: expected 0x-prefixed hex data")


def _address(value: Any, name: str) -> bytes:
    data = _data(value, name)
    if len(data) != 20:
        raise RpcError(INVALID_PARAMS, f"invalid {name}: expected a 20-byte address")
    return data


def _hash(value: Any, name: str) -> bytes:
    data = _data(value, name)
    if len(data) != 32:
        raise RpcError(INVALID_PARAMS, f"invalid {name}: expected a 32-byte hash")
    return data


def _block_id(value: Any) -> str | int:
    if value is None:
        return "latest"
    if isinstance(value, dict):  # EIP-1898
        if "blockNumber" in value:
            return _quantity(value["blockNumber"], "blockNumber")
        raise RpcError(INVALID_PARAMS, "block by hash in a block parameter is not supported")
    if value in ("latest", "pending", "earliest", "safe", "finalized"):
        return str(value)
    return _quantity(value, "block number")


class Dispatcher:
    """Answers JSON-RPC calls for ``node``."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._dev_accounts = {
            Account.from_key(key).address: Account.from_key(key) for key in node.dev_keys
        }
        self._send_lock = threading.Lock()
        self._methods: dict[str, Handler] = {
            "web3_clientVersion": lambda p: CLIENT_VERSION,
            "net_version": lambda p: str(node.chain_id),
            "net_listening": lambda p: True,
            "net_peerCount": lambda p: "0x0",
            "eth_chainId": lambda p: views.hexq(node.chain_id),
            "eth_syncing": lambda p: False,
            "eth_mining": lambda p: False,
            "eth_accounts": lambda p: list(self._dev_accounts),
            "eth_sendTransaction": self._send_transaction,
            "eth_gasPrice": lambda p: "0x0",
            "eth_maxPriorityFeePerGas": lambda p: "0x0",
            "eth_blobBaseFee": lambda p: "0x0",
            "eth_blockNumber": lambda p: views.hexq(node.head().block_number),
            "eth_feeHistory": self._fee_history,
            "eth_getBlockByNumber": self._block_by_number,
            "eth_getBlockByHash": self._block_by_hash,
            "eth_getBlockTransactionCountByNumber": self._tx_count_by_number,
            "eth_getTransactionByHash": self._transaction,
            "eth_getTransactionReceipt": self._receipt,
            "eth_getTransactionCount": self._nonce,
            "eth_getBalance": self._balance,
            "eth_getCode": self._code,
            "eth_getStorageAt": self._storage,
            "eth_call": self._call,
            "eth_estimateGas": self._estimate,
            "eth_sendRawTransaction": self._send_raw,
            "eth_getLogs": self._logs,
            # this node's extension: a receipt wait without polling (see wait_for_receipt)
            "voucherchain_waitForTransactionReceipt": self._wait_receipt,
        }
        if node.config.dev:  # test helpers, as hardhat/anvil offer them
            self._methods["evm_increaseTime"] = self._increase_time
            self._methods["evm_setNextBlockTimestamp"] = self._set_next_timestamp
            self._methods["evm_mine"] = lambda p: views.hexq(node.travel(0))
            self._methods["evm_snapshot"] = lambda p: views.hexq(node.snapshot())
            self._methods["evm_revert"] = lambda p: node.revert(
                _quantity(_param(p, 0), "snapshot id")
            )

    def methods(self) -> list[str]:
        return sorted(self._methods)

    def call(self, method: str, params: Any) -> Any:
        """The result of ``method``; raises :class:`RpcError`."""
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if params is None:
            params = []
        if not isinstance(params, list):
            raise RpcError(INVALID_PARAMS, "params must be an array")
        try:
            return handler(params)
        except RpcError:
            raise
        except Exception as exc:  # an internal fault: say so, do not leak a traceback
            raise RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}") from exc

    # -- blocks -----------------------------------------------------------------------------------

    def _block_by_number(self, params: list[Any]) -> Any:
        block_id = _block_id(_param(params, 0))
        full = bool(_param(params, 1, False))
        with self.node.reading() as chain:
            try:
                header = self.node.header_at(chain, block_id)
            except RpcError:
                return None
            return self._block_view(chain, header, full)

    def _block_by_hash(self, params: list[Any]) -> Any:
        block_hash = _hash(_param(params, 0), "block hash")
        full = bool(_param(params, 1, False))
        with self.node.reading() as chain:
            try:
                header = chain.get_block_header_by_hash(block_hash)  # type: ignore[arg-type]
            except Exception:
                return None
            return self._block_view(chain, header, full)

    def _block_view(self, chain: Any, header: Any, full: bool) -> dict[str, Any]:
        block = chain.get_block_by_header(header)
        stored = self.node.reader_store.block_transactions(header.block_number) if full else None
        return views.block_view(block, full=full, transactions=stored)

    def _tx_count_by_number(self, params: list[Any]) -> Any:
        with self.node.reading() as chain:
            header = self.node.header_at(chain, _block_id(_param(params, 0)))
            return views.hexq(len(chain.get_block_by_header(header).transactions))

    def _fee_history(self, params: list[Any]) -> Any:
        count = min(_quantity(_param(params, 0, "0x1"), "blockCount"), 1024)
        percentiles = _param(params, 2) or []
        with self.node.reading() as chain:
            newest = self.node.header_at(chain, _block_id(_param(params, 1))).block_number
            oldest = max(0, newest - count + 1)
            ratios = []
            for number in range(oldest, newest + 1):
                h = chain.get_canonical_block_header_by_number(BlockNumber(number))
                ratios.append(h.gas_used / h.gas_limit if h.gas_limit else 0.0)
        n = len(ratios)
        return {
            "oldestBlock": views.hexq(oldest),
            "baseFeePerGas": ["0x0"] * (n + 1),
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": ["0x0"] * (n + 1),
            "blobGasUsedRatio": [0.0] * n,
            "reward": [["0x0"] * len(percentiles) for _ in range(n)],
        }

    # -- transactions -----------------------------------------------------------------------------

    def _transaction(self, params: list[Any]) -> Any:
        tx_hash = _hash(_param(params, 0), "transaction hash")
        with self.node.reading():
            return self.node.reader_store.transaction(tx_hash)

    def _receipt(self, params: list[Any]) -> Any:
        tx_hash = _hash(_param(params, 0), "transaction hash")
        with self.node.reading():
            return self.node.reader_store.receipt(tx_hash)

    def _wait_receipt(self, params: list[Any]) -> Any:
        """``[txHash, timeoutMs]``: the receipt as soon as the transaction's block is committed,
        or ``null`` after ``timeoutMs`` (default 1,000, at most 60,000) or at once if the node
        does not know the transaction."""
        tx_hash = _hash(_param(params, 0), "transaction hash")
        timeout = _param(params, 1, 1000)
        timeout = _quantity(timeout, "timeout") if isinstance(timeout, str) else timeout
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
            raise RpcError(INVALID_PARAMS, "invalid timeout: expected milliseconds ≥ 0")
        return self.node.wait_for_receipt(tx_hash, min(timeout, MAX_RECEIPT_WAIT_MS) / 1000)

    def _send_transaction(self, params: list[Any]) -> Any:
        """Dev mode: signs with one of the unlocked dev accounts (fees 0, nonce and gas filled)."""
        tx = _param(params, 0)
        if not isinstance(tx, Mapping) or not tx.get("from"):
            raise RpcError(INVALID_PARAMS, "expected a transaction object with from")
        account = self._dev_accounts.get(to_checksum_address(_address(tx["from"], "from")))
        if account is None:
            raise RpcError(-32000, f"unknown account {tx['from']} (not an unlocked dev account)")
        with self._send_lock:
            fields: dict[str, Any] = {
                "type": 2,
                "chainId": self.node.chain_id,
                "nonce": _quantity(tx["nonce"], "nonce")
                if "nonce" in tx
                else self.node.pending_nonce(bytes.fromhex(account.address[2:])),
                "maxFeePerGas": 0,
                "maxPriorityFeePerGas": 0,
                "value": _quantity(tx.get("value", "0x0"), "value"),
                "data": _data(tx.get("input", tx.get("data")), "input"),
            }
            if tx.get("to"):
                fields["to"] = to_checksum_address(_address(tx["to"], "to"))
            if "gas" in tx:
                fields["gas"] = _quantity(tx["gas"], "gas")
            else:
                fields["gas"] = int(self._estimate([{**tx, "from": account.address}]), 16)
            raw = bytes(account.sign_transaction(fields).raw_transaction)
            return views.hexb(self.node.submit(raw))

    def _send_raw(self, params: list[Any]) -> Any:
        return views.hexb(self.node.submit(_data(_param(params, 0), "raw transaction")))

    # -- state ------------------------------------------------------------------------------------

    def _nonce(self, params: list[Any]) -> Any:
        address = _address(_param(params, 0), "address")
        block_id = _block_id(_param(params, 1))
        if block_id == "pending":
            return views.hexq(self.node.pending_nonce(address))
        with self.node.reading() as chain:
            header = self.node.header_at(chain, block_id)
            return views.hexq(chain.get_vm(header).state.get_nonce(address))  # type: ignore[arg-type]

    def _balance(self, params: list[Any]) -> Any:
        address = _address(_param(params, 0), "address")
        with self.node.reading() as chain:
            header = self.node.header_at(chain, _block_id(_param(params, 1)))
            return views.hexq(chain.get_vm(header).state.get_balance(address))  # type: ignore[arg-type]

    def _code(self, params: list[Any]) -> Any:
        address = _address(_param(params, 0), "address")
        with self.node.reading() as chain:
            header = self.node.header_at(chain, _block_id(_param(params, 1)))
            return views.hexb(chain.get_vm(header).state.get_code(address))  # type: ignore[arg-type]

    def _storage(self, params: list[Any]) -> Any:
        address = _address(_param(params, 0), "address")
        slot = _quantity(_param(params, 1), "storage slot")
        with self.node.reading() as chain:
            header = self.node.header_at(chain, _block_id(_param(params, 2)))
            value = chain.get_vm(header).state.get_storage(address, slot)  # type: ignore[arg-type]
            return views.hexb(value.to_bytes(32, "big"))

    def _message(self, params: list[Any]) -> tuple[dict[str, Any], str | int]:
        tx = _param(params, 0)
        if not isinstance(tx, Mapping):
            raise RpcError(INVALID_PARAMS, "expected a transaction object")
        message = {
            "sender": _address(tx["from"], "from") if tx.get("from") else _ZERO,
            "to": _address(tx["to"], "to") if tx.get("to") else b"",
            "data": _data(tx.get("input", tx.get("data")), "input"),
            "value": _quantity(tx.get("value", "0x0"), "value"),
            "gas": min(_quantity(tx.get("gas", hex(CALL_GAS_CAP)), "gas"), CALL_GAS_CAP),
        }
        return message, _block_id(_param(params, 1))

    def _call(self, params: list[Any]) -> Any:
        return self._read("call", params)

    def _estimate(self, params: list[Any]) -> Any:
        return self._read("estimate", params)

    def _read(self, kind: Kind, params: list[Any]) -> str:
        """A call or estimate: in a read worker if the node has them, else on this thread."""
        message, block_id = self._message(params)
        pool = self.node.read_pool
        if pool is not None:
            return pool.answer(kind, message, block_id, self.node.clock())
        with self.node.reading() as chain:
            return READS[kind](chain, message, block_id)

    def _increase_time(self, params: list[Any]) -> Any:
        seconds = _param(params, 0, 0)
        seconds = _quantity(seconds, "seconds") if isinstance(seconds, str) else int(seconds)
        if seconds < 0:
            raise RpcError(INVALID_PARAMS, "chain time never goes backwards")
        self.node.travel(seconds)
        return self.node.time_offset

    def _set_next_timestamp(self, params: list[Any]) -> Any:
        value = _param(params, 0)
        timestamp = _quantity(value, "timestamp") if isinstance(value, str) else int(value)
        try:
            self.node.set_next_block_timestamp(timestamp)
        except ValueError as exc:
            raise RpcError(INVALID_PARAMS, str(exc)) from None
        return True

    # -- logs -------------------------------------------------------------------------------------

    def _logs(self, params: list[Any]) -> Any:
        query = _param(params, 0) or {}
        if not isinstance(query, Mapping):
            raise RpcError(INVALID_PARAMS, "expected a filter object")
        with self.node.reading() as chain:
            head = chain.get_canonical_head().block_number
            if query.get("blockHash"):
                block_hash = _hash(query["blockHash"], "blockHash")
                try:
                    header = chain.get_block_header_by_hash(block_hash)  # type: ignore[arg-type]
                except Exception:
                    raise RpcError(-32000, "unknown block") from None
                first = last = int(header.block_number)
            else:
                first = self._bound(query.get("fromBlock"), head)
                last = self._bound(query.get("toBlock"), head)
            raw_addresses = query.get("address")
            if raw_addresses is None:
                addresses: list[bytes] = []
            elif isinstance(raw_addresses, list):
                addresses = [_address(a, "address") for a in raw_addresses]
            else:
                addresses = [_address(raw_addresses, "address")]
            topics: list[list[bytes] | None] = []
            for topic in query.get("topics") or []:
                if topic is None:
                    topics.append(None)
                elif isinstance(topic, list):
                    topics.append([_hash(t, "topic") for t in topic] or None)
                else:
                    topics.append([_hash(topic, "topic")])
            found = self.node.reader_store.logs(first, last, addresses, topics, limit=MAX_LOGS)
        if len(found) > MAX_LOGS:
            raise RpcError(-32005, f"query returned more than {MAX_LOGS} results")
        return found

    @staticmethod
    def _bound(value: Any, head: int) -> int:
        block = _block_id(value)
        if block in ("latest", "pending", "safe", "finalized"):
            return head
        if block == "earliest":
            return 0
        assert isinstance(block, int)
        return block


def handle_request(dispatcher: Dispatcher, request: Any) -> dict[str, Any] | None:
    """One JSON-RPC request object → its response object (``None`` for a notification)."""
    if not isinstance(request, dict) or not isinstance(request.get("method"), str):
        return {
            "jsonrpc": "2.0",
            "id": request.get("id") if isinstance(request, dict) else None,
            "error": {"code": -32600, "message": "invalid request"},
        }
    request_id = request.get("id")
    try:
        result = dispatcher.call(request["method"], request.get("params"))
    except RpcError as exc:
        return {"jsonrpc": "2.0", "id": request_id, "error": exc.as_json()}
    if "id" not in request:
        return None
    return {"jsonrpc": "2.0", "id": request_id, "result": result}

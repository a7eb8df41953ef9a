"""Reliable submission: per-account nonces safe under concurrent callers, signing through a
:class:`~voucher_chain.signer.base.Signer`, retries of transient transport errors, receipt waiting
with a timeout, and reverts raised as :class:`~voucher_chain.errors.ContractRevert`.

Retrying is safe because a retry re-sends the *same signed bytes*: the chain either has that
transaction (same hash, same nonce) or does not; it can never execute twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.method_formatters import get_result_formatters
from web3.contract.contract import ContractFunction
from web3.exceptions import TimeExhausted, Web3RPCError
from web3.providers.base import BaseProvider
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt, Wei

from voucher_chain.contracts.revert import protocol_error_decoder, revert_data_of
from voucher_chain.errors import TransactionFailed, VoucherChainError
from voucher_chain.signer.base import Signer

__all__ = ["NonceManager", "PUSHED_RECEIPT_WAIT", "SubmissionTimeout", "Submitter"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The embedded node's receipt wait (``[txHash, timeoutMs]`` → receipt or null), answered when
#: the transaction's block is committed: no polling. Other nodes answer "method not found".
PUSHED_RECEIPT_WAIT = "voucherchain_waitForTransactionReceipt"
#: One pushed wait request lasts at most this long (s): under HTTP clients' usual timeouts.
_PUSHED_WAIT_CHUNK = 10.0
_METHOD_NOT_FOUND = -32601

#: Errors of the transport, not of the transaction: worth a retry with the same bytes.
TRANSIENT: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OSError)


class SubmissionTimeout(VoucherChainError):
    """No receipt arrived in time. The transaction may still be mined: look it up by hash."""

    def __init__(self, message: str, *, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class NonceManager:
    """Hands out gap-free nonces per account to concurrent callers.

    :meth:`reserve` holds the account's lock while the caller signs and sends; the nonce is
    consumed only if the block exits normally, so a refused transaction leaves no gap; after any
    failure the next reservation rereads the node's pending count.
    """

    def __init__(self, w3: Web3) -> None:
        self._w3 = w3
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._next: dict[str, int] = {}

    def _lock(self, address: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(address, threading.Lock())

    @contextmanager
    def reserve(self, address: ChecksumAddress) -> Iterator[int]:
        with self._lock(address):
            nonce = self._next.get(address)
            if nonce is None:
                nonce = self._w3.eth.get_transaction_count(address, "pending")
            try:
                yield nonce
            except BaseException:
                # The transaction may or may not have reached the node: reread next time.
                self._next.pop(address, None)
                raise
            self._next[address] = nonce + 1

    def forget(self, address: ChecksumAddress) -> None:
        """Drops the cached nonce so the next reservation rereads the chain."""
        with self._lock(address):
            self._next.pop(address, None)


def gas_with_margin(estimate: int) -> int:
    """The gas limit sent for a transaction estimated at ``estimate``: +30 % and 25,000.

    An estimate holds for the state it ran on. Between it and inclusion, other senders' transactions
    can make the same call dearer: e.g. the order book's escrow balances drop to zero when the
    last open order settles, and the next ``placeOrder`` then pays for new storage slots
    (+52,000 gas measured on 304,000 by scripts/bench with concurrent enterprises, which ran out
    of gas at the bare estimate). Unused gas is refunded, and gas is free on the embedded chain.
    """
    return estimate * 13 // 10 + 25_000


#: A margin up to this is sent as is, without asking the chain for its block gas limit: above
#: every order step's (``placeOrder``, the dearest, ~410,000), below the block gas limit of any
#: chain the protocol can be deployed on (its contracts take millions of gas each to create).
_LIMIT_CHECK_ABOVE = 1_000_000


def cache_chain_id(w3: Web3) -> None:
    """Lets ``w3``'s provider answer ``eth_chainId`` from its cache after the first request.

    web3 asks the node for the chain id five times per transaction (its validation middleware
    and transaction building), 20 requests per order in scripts/bench, and a node's chain id never
    changes. Only ``eth_chainId`` is made cacheable, and only on a provider whose caching is
    off: a caller that configured request caching keeps its own setting.
    """
    provider = w3.provider
    if isinstance(provider, BaseProvider) and not provider.cache_allowed_requests:
        provider.cacheable_requests = {RPCEndpoint("eth_chainId")}
        provider.cache_allowed_requests = True


class Submitter:
    """Builds, signs, sends and confirms contract transactions for the accounts of a signer."""

    def __init__(
        self,
        w3: Web3,
        signer: Signer,
        *,
        receipt_timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
        poll_interval: float = 0.01,
    ) -> None:
        self.w3 = w3
        cache_chain_id(w3)
        self.signer = signer
        self.nonces = NonceManager(w3)
        self.receipt_timeout = receipt_timeout
        self.retries = retries
        self.backoff = backoff
        self.poll_interval = poll_interval
        self._chain_id: int | None = None
        #: whether the node offers PUSHED_RECEIPT_WAIT (None: not tried yet)
        self._pushed_wait: bool | None = None
        #: whether the node's fees are zero (None: not known yet). The first transaction's fees
        #: come from web3 (eth_maxPriorityFeePerGas, base fee of the latest block); when both
        #: are zero (the embedded node pins them) later transactions send zero fees without
        #: asking, until the node refuses one.
        self._free_gas: bool | None = None
        self._receipt_formatter = get_result_formatters(
            RPCEndpoint("eth_getTransactionReceipt"), w3.eth
        )

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.w3.eth.chain_id
        return self._chain_id

    def transact(self, fn: ContractFunction, sender: str) -> TxReceipt:
        """Sends ``fn`` from ``sender`` and returns its successful receipt.

        Raises :class:`ContractRevert` if the contract refuses it (checked before anything is
        sent), :class:`SubmissionTimeout` if no receipt comes in time, and
        :class:`TransactionFailed` for a mined failure without revert data.
        """
        address = Web3.to_checksum_address(sender)
        with self.nonces.reserve(address) as nonce:
            params: TxParams = {"from": address, "nonce": Nonce(nonce), "chainId": self.chain_id}
            estimate = self._guard_revert(lambda: fn.estimate_gas(params))
            params["gas"] = self._gas_limit(estimate)
            if self._free_gas:
                params["maxFeePerGas"] = params["maxPriorityFeePerGas"] = Wei(0)
            tx = self._guard_revert(lambda: fn.build_transaction(params))
            if self._free_gas is None:
                self._free_gas = tx.get("maxFeePerGas") == 0 and tx.get("maxPriorityFeePerGas") == 0
            signed = self.signer.sign_transaction(address, dict(tx))
            tx_hash = self._send(signed.raw_transaction, signed.hash)
        return self.wait(tx_hash)

    def _gas_limit(self, estimate: int) -> int:
        """:func:`gas_with_margin`, but never above the latest block's gas limit: every node
        refuses a transaction asking for more gas than a block holds, even when its estimate
        fits (a 24M-gas call with its margin on a 30M-gas chain). Asked of the chain only for
        such large margins, so the usual transaction costs no extra request."""
        gas = gas_with_margin(estimate)
        if gas > _LIMIT_CHECK_ABOVE:
            gas = min(gas, int(self.w3.eth.get_block("latest")["gasLimit"]))
        return gas

    def wait(self, tx_hash: HexBytes) -> TxReceipt:
        """The receipt of ``tx_hash``; :class:`SubmissionTimeout` after ``receipt_timeout``.

        On the embedded node the wait is pushed: one request that the node answers when the
        block is committed (:data:`PUSHED_RECEIPT_WAIT`). Elsewhere (anvil, hardhat, Besu,
        eth-tester) it polls ``eth_getTransactionReceipt`` every ``poll_interval`` seconds.
        """
        deadline = time.monotonic() + self.receipt_timeout
        receipt = self._pushed_receipt(tx_hash, deadline)
        try:
            if receipt is None:
                receipt = self.w3.eth.wait_for_transaction_receipt(
                    tx_hash,
                    timeout=max(0.0, deadline - time.monotonic()),
                    poll_latency=self.poll_interval,
                )
        except TimeExhausted:
            raise SubmissionTimeout(
                f"no receipt for {tx_hash.to_0x_hex()} after {self.receipt_timeout}s; it may "
                "still be mined",
                tx_hash=tx_hash.to_0x_hex(),
            ) from None
        if receipt["status"] != 1:
            raise TransactionFailed(
                f"transaction {tx_hash.to_0x_hex()} failed without revert data",
                tx_hash=tx_hash.to_0x_hex(),
            )
        return receipt

    def _pushed_receipt(self, tx_hash: HexBytes, deadline: float) -> TxReceipt | None:
        """The receipt through the node's pushed wait; ``None`` if the node has none (then the
        caller polls), if it does not know the transaction (yet), or at the deadline."""
        if self._pushed_wait is False:
            return None
        while (remaining := deadline - time.monotonic()) > 0:
            chunk_ms = int(min(remaining, _PUSHED_WAIT_CHUNK) * 1000)
            asked = time.monotonic()
            try:
                # through web3's middleware, as any request; then web3's own formatting of a
                # receipt (what eth_getTransactionReceipt's result goes through)
                result = self.w3.manager.request_blocking(
                    RPCEndpoint(PUSHED_RECEIPT_WAIT), [tx_hash.to_0x_hex(), chunk_ms]
                )
            except OSError:  # e.g. an HTTP timeout shorter than the wait: poll from now on
                self._pushed_wait = False
                return None
            except Web3RPCError as exc:
                error = (exc.rpc_response or {}).get("error")
                if isinstance(error, dict) and error.get("code") == _METHOD_NOT_FOUND:
                    self._pushed_wait = False  # another kind of node
                return None
            self._pushed_wait = True
            if result is not None:
                return self._receipt_formatter(result)  # type: ignore[no-any-return]
            if time.monotonic() - asked < chunk_ms / 2000:
                return None  # answered at once: the node does not know the transaction
        return None

    def _send(self, raw: bytes, expected_hash: HexBytes) -> HexBytes:
        """Sends signed bytes, retrying transport errors; a duplicate is success."""
        for attempt in range(self.retries + 1):
            try:
                return HexBytes(self.w3.eth.send_raw_transaction(raw))
            except TRANSIENT as exc:
                if attempt == self.retries:
                    raise
                log.warning("send failed (%s); retry %d", type(exc).__name__, attempt + 1)
                time.sleep(self.backoff * (2**attempt))
            except Web3RPCError as exc:
                if "already known" in str(exc).lower():
                    return expected_hash
                data = revert_data_of(exc)
                if data is not None:
                    raise protocol_error_decoder().decode(data) from None
                self._free_gas = None  # e.g. fees no longer zero: ask the node again next time
                raise TransactionFailed(f"the node refused the transaction: {exc}") from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _guard_revert(build: Callable[[], T]) -> T:
        try:
            return build()
        except Exception as exc:
            data = revert_data_of(exc)
            if data is None:
                raise
            raise protocol_error_decoder().decode(data) from None

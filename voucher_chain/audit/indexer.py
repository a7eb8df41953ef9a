"""The indexer: follows a chain block by block over web3 and records every protocol event.

- **One transaction per block**: the block row, its decoded events, raw logs, failed
  transactions and projection updates commit together, so the cursor (the highest stored
  block) always names a block that is completely indexed. A crash or ``kill -9`` loses at most
  the block in progress, which the restart indexes again.
- **Idempotent**: events are unique by (block, transaction, log index); a block already stored
  is skipped.
- **Reorgs**: before indexing block n, the stored hash of n-1 must be the chain's parent hash of
  n; otherwise :class:`~voucher_chain.audit.errors.ReorgDetected`. ``confirmations`` keeps the
  indexer that many blocks behind the head (for chains whose finality is probabilistic; 0 for
  the embedded node and QBFT, which finalise immediately).
- **Failed transactions** are not events: the receipt of each mined transaction that logged
  nothing is read, and for a status-0 one the call is replayed at the parent block to recover
  the contract error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from voucher_chain.audit.decode import Decoded, LogDecoder, to_json
from voucher_chain.audit.errors import ReorgDetected
from voucher_chain.audit.models import AccountRow, BlockRow, EventRow, FailedTxRow, RawLogRow
from voucher_chain.audit.project import apply_event
from voucher_chain.contracts import Protocol, protocol_error_decoder, revert_data_of

__all__ = ["Indexer", "SyncResult"]


def _hex(value: Any) -> str:
    return HexBytes(value).to_0x_hex()


@dataclass(frozen=True)
class SyncResult:
    first: int | None
    last: int | None
    blocks: int
    events: int
    raw_logs: int
    failed_txs: int


class _Reader:
    """Reads organisation profiles and program terms at a block (latest if history is gone)."""

    def __init__(self, protocol: Protocol) -> None:
        self._p = protocol

    def _at(self, fn: Any, block: int) -> Any:
        try:
            return fn.call(block_identifier=block)
        except Exception:
            return fn.call()

    def organisation(self, org_id: int, block: int) -> Any:
        return self._at(self._p.registry.functions.organisation(org_id), block)

    def terms(self, program_id: int, block: int) -> Any:
        return self._at(self._p.programs.functions.terms(program_id), block)


class Indexer:
    """Indexes ``protocol``'s chain into the database behind ``sessions``."""

    def __init__(
        self,
        protocol: Protocol,
        sessions: sessionmaker[Session],
        *,
        confirmations: int = 0,
        start_block: int = 0,
    ) -> None:
        self.protocol = protocol
        self.w3: Web3 = protocol.w3
        self.sessions = sessions
        self.confirmations = confirmations
        self.start_block = start_block
        self.decoder = LogDecoder.for_protocol(protocol)
        self._reader = _Reader(protocol)
        self._lock = threading.Lock()

    # -- cursor -----------------------------------------------------------------------------

    def cursor(self) -> int | None:
        """The highest fully indexed block, or None before the first."""
        with self.sessions() as s:
            value = s.scalar(select(func.max(BlockRow.number)))
        return None if value is None else int(value)

    def target(self) -> int:
        """The highest block the indexer may index now (head minus confirmations)."""
        return int(self.w3.eth.block_number) - self.confirmations

    # -- indexing ---------------------------------------------------------------------------

    def sync(
        self, to_block: int | None = None, *, progress: Callable[[int], None] | None = None
    ) -> SyncResult:
        """Indexes every block after the cursor up to ``to_block`` (default :meth:`target`)."""
        with self._lock:
            target = self.target() if to_block is None else min(to_block, self.target())
            cursor = self.cursor()
            start = self.start_block if cursor is None else cursor + 1
            events = raw = failed = 0
            first = last = None
            for number in range(start, target + 1):
                e, r, f = self._index_block(number)
                events, raw, failed = events + e, raw + r, failed + f
                first = number if first is None else first
                last = number
                if progress is not None:
                    progress(number)
            blocks = 0 if first is None or last is None else last - first + 1
            return SyncResult(first, last, blocks, events, raw, failed)

    def follow(
        self,
        stop: threading.Event,
        *,
        poll_seconds: float = 1.0,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Syncs until ``stop`` is set; an error stops following unless ``on_error`` swallows
        it (a :class:`ReorgDetected` always stops: it needs a person)."""
        while not stop.is_set():
            try:
                self.sync()
            except ReorgDetected:
                raise
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(exc)
            stop.wait(poll_seconds)

    def _index_block(self, number: int) -> tuple[int, int, int]:
        block = self.w3.eth.get_block(number, full_transactions=True)
        block_hash = _hex(block["hash"])
        with self.sessions.begin() as s:
            stored = s.get(BlockRow, number)
            if stored is not None:
                if stored.hash != block_hash:
                    raise ReorgDetected(number, stored.hash, block_hash)
                return 0, 0, 0
            parent = s.get(BlockRow, number - 1)
            if parent is not None and parent.hash != _hex(block["parentHash"]):
                raise ReorgDetected(number - 1, parent.hash, _hex(block["parentHash"]))
            ts = int(block["timestamp"])
            row = BlockRow(
                number=number,
                hash=block_hash,
                parent_hash=_hex(block["parentHash"]),
                timestamp=ts,
                tx_count=len(block["transactions"]),
                failed_tx_count=0,
            )
            s.add(row)
            s.flush()
            events = raw = failed = 0
            logs = self._logs(number, block_hash)
            with_logs = {_hex(log["transactionHash"]) for log in logs}
            for tx in block["transactions"]:
                assert isinstance(tx, Mapping)
                tx_hash = _hex(tx["hash"])
                if tx_hash in with_logs:
                    continue  # a transaction that logged did not revert
                receipt = self.w3.eth.get_transaction_receipt(tx["hash"])
                if receipt["status"] == 0:
                    self._failed(s, number, ts, tx, tx_hash)
                    failed += 1
            for log in logs:
                decoded = self.decoder.decode_log(log)
                tx_hash, log_index = _hex(log["transactionHash"]), int(log["logIndex"])
                if isinstance(decoded, Decoded):
                    s.add(
                        EventRow(
                            block_number=number,
                            tx_hash=tx_hash,
                            tx_index=int(log["transactionIndex"]),
                            log_index=log_index,
                            timestamp=ts,
                            contract=decoded.contract,
                            name=decoded.name,
                            args=to_json(decoded.args),
                        )
                    )
                    apply_event(s, decoded.name, decoded.args, ts, number, self._reader)
                    events += 1
                else:
                    s.add(
                        RawLogRow(
                            block_number=number,
                            tx_hash=tx_hash,
                            log_index=log_index,
                            address=to_checksum_address(log["address"]),
                            topics=to_json({"t": [_hex(t) for t in log["topics"]]}),
                            data=_hex(log["data"]),
                            reason=decoded.reason,
                        )
                    )
                    raw += 1
            row.failed_tx_count = failed
            return events, raw, failed

    def _logs(self, number: int, block_hash: str) -> list[Any]:
        """Every log of block ``number`` (any address: foreign ones are kept raw), in order.

        One ``eth_getLogs`` per block instead of a receipt per transaction (eth-tester finds a
        receipt by scanning every block); receipts are read only for transactions that logged
        nothing, to see whether they failed."""
        logs = list(self.w3.eth.get_logs({"fromBlock": number, "toBlock": number}))
        for log in logs:
            if _hex(log["blockHash"]) != block_hash:
                raise ReorgDetected(number, block_hash, _hex(log["blockHash"]))
        return sorted(logs, key=lambda log: int(log["logIndex"]))

    def _failed(
        self, s: Session, number: int, ts: int, tx: Mapping[str, Any], tx_hash: str
    ) -> None:
        to = tx.get("to")
        data = bytes(HexBytes(tx.get("input", b"")))
        contract, function, call_args = self.decoder.decode_call(to, data)
        error, error_args = None, "{}"
        try:
            self.w3.eth.call(
                {"from": tx["from"], "to": to, "data": data, "gas": tx["gas"]},  # type: ignore[typeddict-item]
                block_identifier=number - 1,
            )
        except Exception as exc:
            revert = revert_data_of(exc)
            if revert:
                decoded = protocol_error_decoder().decode(revert)
                error, error_args = decoded.name, to_json(decoded.args_by_name)
        sender = to_checksum_address(tx["from"])
        account = s.get(AccountRow, sender)
        s.add(
            FailedTxRow(
                tx_hash=tx_hash,
                block_number=number,
                timestamp=ts,
                sender=sender,
                sender_org=account.org_id if account is not None else None,
                contract=contract,
                function=function,
                call_args=call_args,
                error=error,
                error_args=error_args,
            )
        )


def wait_for(indexer: Indexer, block: int, timeout: float = 30.0) -> None:
    """Blocks until ``indexer`` has indexed ``block`` (for a follower in another thread)."""
    deadline = time.monotonic() + timeout
    while (indexer.cursor() or -1) < block:
        if time.monotonic() > deadline:
            raise TimeoutError(f"block {block} not indexed within {timeout} s")
        time.sleep(0.05)

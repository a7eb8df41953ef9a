"""The transaction explorer over the index: blocks → transactions → decoded events (and the
failed transactions and undecodable logs of each block)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voucher_chain.audit.decode import from_json
from voucher_chain.audit.models import BlockRow, EventRow, FailedTxRow, RawLogRow

__all__ = ["block_detail", "blocks_page", "counts", "transaction_detail"]


def _block(b: BlockRow) -> dict[str, Any]:
    return {
        "number": b.number,
        "hash": b.hash,
        "parent_hash": b.parent_hash,
        "timestamp": b.timestamp,
        "tx_count": b.tx_count,
        "failed_tx_count": b.failed_tx_count,
    }


def _event(e: EventRow) -> dict[str, Any]:
    return {
        "log_index": e.log_index,
        "contract": e.contract,
        "name": e.name,
        "args": from_json(e.args),
    }


def _failed(f: FailedTxRow) -> dict[str, Any]:
    return {
        "tx_hash": f.tx_hash,
        "sender": f.sender,
        "sender_org": f.sender_org,
        "contract": f.contract,
        "function": f.function,
        "call_args": from_json(f.call_args),
        "error": f.error,
        "error_args": from_json(f.error_args),
    }


def _raw(r: RawLogRow) -> dict[str, Any]:
    return {
        "tx_hash": r.tx_hash,
        "log_index": r.log_index,
        "address": r.address,
        "topics": from_json(r.topics)["t"],
        "data": r.data,
        "reason": r.reason,
    }


def blocks_page(s: Session, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Indexed blocks, newest first."""
    total = s.scalar(select(func.count()).select_from(BlockRow)) or 0
    rows = s.scalars(select(BlockRow).order_by(BlockRow.number.desc()).offset(offset).limit(limit))
    return [_block(b) for b in rows], int(total)


def _transactions(s: Session, where: Any) -> list[dict[str, Any]]:
    by_tx: dict[str, dict[str, Any]] = {}
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in s.scalars(select(EventRow).where(where).order_by(EventRow.log_index)):
        by_tx.setdefault(
            e.tx_hash,
            {
                "tx_hash": e.tx_hash,
                "block_number": e.block_number,
                "tx_index": e.tx_index,
                "status": 1,
            },
        )
        events[e.tx_hash].append(_event(e))
    return [
        dict(tx, events=events[h])
        for h, tx in sorted(by_tx.items(), key=lambda kv: kv[1]["tx_index"])
    ]


def block_detail(s: Session, number: int) -> dict[str, Any] | None:
    b = s.get(BlockRow, number)
    if b is None:
        return None
    return dict(
        _block(b),
        transactions=_transactions(s, EventRow.block_number == number),
        failed_transactions=[
            _failed(f)
            for f in s.scalars(select(FailedTxRow).where(FailedTxRow.block_number == number))
        ],
        raw_logs=[
            _raw(r) for r in s.scalars(select(RawLogRow).where(RawLogRow.block_number == number))
        ],
    )


def transaction_detail(s: Session, tx_hash: str) -> dict[str, Any] | None:
    found = _transactions(s, EventRow.tx_hash == tx_hash.lower())
    if found:
        return found[0]
    failed = s.get(FailedTxRow, tx_hash.lower())
    if failed is not None:
        return {
            "tx_hash": failed.tx_hash,
            "block_number": failed.block_number,
            "tx_index": -1,
            "status": 0,
            "events": [],
            "failure": _failed(failed),
        }
    return None


def counts(s: Session) -> dict[str, int]:
    def n(model: Any) -> int:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)

    return {
        "events": n(EventRow),
        "raw_logs": n(RawLogRow),
        "failed_txs": n(FailedTxRow),
        "blocks": n(BlockRow),
    }

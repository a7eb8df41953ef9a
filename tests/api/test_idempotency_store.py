"""The idempotency store on its own: a failure releases the key, a stale claim is taken over."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from api import idempotency
from api.db import Database
from api.errors import IdempotencyKeyReused
from api.idempotency import IdempotentCall, fingerprint


class Result(BaseModel):
    n: int


def _call(db: Database, body: bytes = b"{}") -> IdempotentCall:
    return IdempotentCall(db, 7, "key-1", fingerprint("POST", "/x", body), wait_seconds=1.0)


def test_failure_releases_the_key_and_success_is_stored(tmp_path: Path) -> None:
    db = Database(tmp_path / "db.sqlite3")
    runs: list[int] = []

    def boom() -> Result:
        raise RuntimeError("transient")

    with pytest.raises(RuntimeError):
        _call(db).run(boom)

    def work() -> Result:
        runs.append(1)
        return Result(n=len(runs))

    first = _call(db).run(work)
    second = _call(db).run(work)
    assert runs == [1] and first.body == second.body == b'{"n":1}'
    assert second.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(IdempotencyKeyReused):
        _call(db, b'{"other": 1}').run(work)


def test_a_stale_pending_claim_is_taken_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(tmp_path / "db.sqlite3")
    with db.connect() as conn:
        conn.execute(
            "INSERT INTO idempotency (org_id, key, fingerprint, state, created_at) "
            "VALUES (7, 'key-1', ?, 'pending', ?)",
            (fingerprint("POST", "/x", b"{}"), time.time() - 10),
        )
    monkeypatch.setattr(idempotency, "STALE_AFTER", 5.0)
    assert _call(db).run(lambda: Result(n=2)).body == b'{"n":2}'

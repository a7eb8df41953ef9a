"""Exactly-once value-moving requests: the ``Idempotency-Key`` header.

The first request with a key claims it (a row keyed by organisation and key, unique in the
database) and its response is stored; a repeat returns the stored response and moves nothing; a
repeat that arrives while the first is still running waits for it; the same key with a different
request (method, path or body) is refused with 422. A request that fails releases its key, so a
retry runs again — safe, because the domain services are idempotent on chain as well.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from fastapi import Response
from pydantic import BaseModel

from api.db import Database
from api.errors import IdempotencyInProgress, IdempotencyKeyMissing, IdempotencyKeyReused

__all__ = ["HEADER", "REPLAY_HEADER", "IdempotentCall", "fingerprint", "require_key_in_document"]

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
_POLL = 0.02
#: A claim left pending this long belongs to a process that died: a repeat takes it over (safe,
#: as the services find an operation already done on chain and do not repeat it).
STALE_AFTER = 300.0


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def require_key_in_document(spec: dict[str, Any]) -> dict[str, Any]:
    """Marks the header required in the OpenAPI document wherever an operation takes it.

    The dependency declares it optional so that a missing key is answered by the one error
    handler as 428 ``IdempotencyKeyMissing`` (not as a validation error); every operation that
    takes it refuses to run without it, and the document must say so.
    """
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") == HEADER:
                    parameter["required"] = True
                    parameter["schema"] = {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 200,
                        "title": HEADER,
                    }
    return spec


class IdempotentCall:
    """One request's claim on its idempotency key; :meth:`run` does the work at most once."""

    def __init__(
        self, db: Database, org_id: int, key: str | None, print_: str, wait_seconds: float
    ) -> None:
        self._db = db
        self.org_id = org_id
        self.key = key
        self._print = print_
        self._wait = wait_seconds

    def request_id(self) -> str:
        """A chain-level request id derived from the key (unique per organisation)."""
        return f"api:{self.org_id}:{self._require_key()}"

    def _require_key(self) -> str:
        if not self.key:
            raise IdempotencyKeyMissing(
                "this request moves value: send an Idempotency-Key header (e.g. a UUID)"
            )
        return self.key

    def run(
        self,
        work: Callable[[], BaseModel],
        status_code: int = 200,
        *,
        replay_body: Callable[[BaseModel], BaseModel] | None = None,
    ) -> Response:
        """Runs ``work`` once; ``replay_body`` makes what a repeat gets from the result (by
        default the result itself) — a result carrying a secret is stored without it."""
        key = self._require_key()
        deadline = time.monotonic() + self._wait
        while True:
            stored = self._claim_or_read(key)
            if stored is None:
                break  # claimed: this request does the work
            status, body = stored
            if status is not None and body is not None:
                return Response(
                    content=body,
                    status_code=status,
                    media_type="application/json",
                    headers={REPLAY_HEADER: "true"},
                )
            if time.monotonic() > deadline:
                raise IdempotencyInProgress(
                    "the first request with this Idempotency-Key is still running; retry later",
                    key=key,
                )
            time.sleep(_POLL)
        try:
            result = work()
        except BaseException:
            with self._db.connect() as conn:
                conn.execute(
                    "DELETE FROM idempotency WHERE org_id = ? AND key = ? AND state = 'pending'",
                    (self.org_id, key),
                )
            raise
        body_text = result.model_dump_json()
        replay_text = replay_body(result).model_dump_json() if replay_body else body_text
        with self._db.connect() as conn:
            conn.execute(
                "UPDATE idempotency SET state = 'done', status = ?, body = ? "
                "WHERE org_id = ? AND key = ?",
                (status_code, replay_text, self.org_id, key),
            )
        return Response(content=body_text, status_code=status_code, media_type="application/json")

    def _claim_or_read(self, key: str) -> tuple[int | None, str | None] | None:
        """None if this call claimed the key; else the stored (status, body), None while pending."""
        with self._db.connect() as conn:
            try:
                conn.execute(
                    "INSERT INTO idempotency (org_id, key, fingerprint, state, created_at) "
                    "VALUES (?, ?, ?, 'pending', ?)",
                    (self.org_id, key, self._print, time.time()),
                )
                return None
            except sqlite3.IntegrityError:
                row = conn.execute(
                    "SELECT fingerprint, state, status, body, created_at FROM idempotency "
                    "WHERE org_id = ? AND key = ?",
                    (self.org_id, key),
                ).fetchone()
                stale = (
                    row is not None
                    and row["state"] == "pending"
                    and row["fingerprint"] == self._print
                    and row["created_at"] < time.time() - STALE_AFTER
                )
                if stale:
                    conn.execute(
                        "UPDATE idempotency SET created_at = ? WHERE org_id = ? AND key = ?",
                        (time.time(), self.org_id, key),
                    )
                    return None
        if row is None:  # released between the insert and the read: try again
            return (None, None)
        if row["fingerprint"] != self._print:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request", key=key
            )
        if row["state"] != "done":
            return (None, None)
        return (int(row["status"]), str(row["body"]))

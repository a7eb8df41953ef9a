"""One audit index for a long-running process (the API): the database, the indexer, and a
background thread that follows the chain. Readers call :meth:`AuditService.catch_up` first, so
an answer covers the chain up to the head at the time of the request, and name the indexed
head they answer for."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from voucher_chain.audit.db import open_database
from voucher_chain.audit.errors import ReorgDetected
from voucher_chain.audit.indexer import Indexer
from voucher_chain.contracts import Protocol

__all__ = ["AuditService"]

log = logging.getLogger(__name__)


class AuditService:
    def __init__(
        self,
        protocol: Protocol,
        database: str | Path,
        *,
        confirmations: int = 0,
        poll_seconds: float = 2.0,
    ) -> None:
        self.engine, self.sessions = open_database(database)
        self.indexer = Indexer(protocol, self.sessions, confirmations=confirmations)
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> AuditService:
        """Starts the follower thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="audit-indexer", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        def remember(exc: Exception) -> None:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("audit indexer: %s", self.last_error)

        try:
            self.indexer.follow(self._stop, poll_seconds=self.poll_seconds, on_error=remember)
        except ReorgDetected as exc:
            remember(exc)

    def catch_up(self) -> None:
        """Indexes up to the current head (the follower may be doing it: the indexer's lock
        serialises them)."""
        self.indexer.sync()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as s:
            yield s

    def stop_soon(self) -> None:
        """Asks the follower to stop after its current poll (does not wait)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.engine.dispose()

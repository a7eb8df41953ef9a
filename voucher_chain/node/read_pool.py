"""Read workers: ``eth_call`` and ``eth_estimateGas`` answered in other processes.

The node is one Python process, so its threads share one core (the GIL); under load, calls and
estimates — more than a third of its work under ``scripts/bench`` — queue behind block
building. They only read committed state, so worker processes can answer them: each opens its
own read connection to the chain's SQLite file (WAL: a new read transaction sees every block
committed before it, and the node publishes a receipt only after its block is committed, so a
client that saw a receipt reads its effects here too) and keeps its own caches, all keyed by
content or by storage root, so never stale. The node sends the message, the block, its dev
clock and the producer's slot- and account-cache advances since that worker's last request
(:class:`AdvanceLog`), so a worker's storage values and accounts follow the blocks instead of
being read from the trie again; a worker answers with :mod:`.execution`'s functions — the same
code the node runs itself without workers. Reads are idempotent: a worker that dies is replaced
and the read retried once.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from eth.abc import BlockHeaderAPI

from voucher_chain.node import execution
from voucher_chain.node.account_cache import AccountCache, SlotCache
from voucher_chain.node.chain import chain_class
from voucher_chain.node.config import tune_gc, tune_switching
from voucher_chain.node.errors import INTERNAL_ERROR, RpcError
from voucher_chain.node.execution import READS, Clock, Kind
from voucher_chain.node.store import Store

__all__ = ["ReadPool"]

log = logging.getLogger("voucher_chain.node")

_WORKER = "import sys; from voucher_chain.node.read_pool import worker; worker(sys.argv[1:])"


class _Process:
    """One worker process (:func:`worker`), requests and answers pickled
    over its stdin and stdout, one at a time."""

    def __init__(self, args: list[str], seen: tuple[int, int]) -> None:
        #: how many of the producer's slot and account advances this worker has been sent
        self.seen = seen
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._to: IO[bytes] = self.process.stdin
        self._from: IO[bytes] = self.process.stdout

    def ask(self, request: tuple[Any, ...]) -> tuple[Any, ...]:
        pickle.dump(request, self._to, protocol=pickle.HIGHEST_PROTOCOL)
        self._to.flush()
        answer: tuple[Any, ...] = pickle.load(self._from)
        return answer

    def close(self) -> None:
        self._to.close()  # the worker's loop ends at end of input
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ReadPool:
    """``workers`` processes answering calls and estimates on the chain in ``path``; a caller
    takes an idle one (or waits for one), asks, and gives it back."""

    def __init__(
        self,
        path: Path,
        chain_id: int,
        *,
        dev: bool,
        workers: int,
        slots: SlotCache,
        accounts: AccountCache,
    ) -> None:
        if workers < 1:
            raise ValueError("a read pool needs at least one worker")
        self._args = [str(path), str(chain_id), "dev" if dev else "production"]
        self._logs = (slots.log, accounts.log)
        self._idle = [self._spawn() for _ in range(workers)]
        self._all = list(self._idle)
        self._available = threading.Condition()
        self._closed = False

    def answer(self, kind: Kind, message: dict[str, Any], block: str | int, clock: Clock) -> str:
        """The answer to one call or estimate; errors as :class:`RpcError`, as in-process."""
        for attempt in (1, 2):
            worker = self._take()
            (slot_advances, slots_seen), (account_advances, accounts_seen) = (
                log.since(seen) for log, seen in zip(self._logs, worker.seen, strict=True)
            )
            advances = (slot_advances, account_advances)
            try:
                outcome = worker.ask((kind, message, block, clock, advances))
                worker.seen = (slots_seen, accounts_seen)
            except (OSError, EOFError, pickle.UnpicklingError):
                self._replace(worker)
                if attempt == 2:
                    raise RpcError(INTERNAL_ERROR, "the node's read worker failed") from None
                log.error("a read worker failed; started a new one, retrying the read")
                continue
            self._give_back(worker)
            if outcome[0] == "error":
                _, code, text, data = outcome
                raise RpcError(code, text, data=data)
            result: str = outcome[1]
            return result
        raise AssertionError("unreachable")

    def _take(self) -> _Process:
        with self._available:
            while not self._idle or self._closed:
                if self._closed:
                    raise RpcError(INTERNAL_ERROR, "the node is shutting down")
                self._available.wait()
            return self._idle.pop()

    def _give_back(self, worker: _Process) -> None:
        with self._available:
            self._idle.append(worker)
            self._available.notify()

    def _spawn(self) -> _Process:
        slots, accounts = self._logs
        return _Process(self._args, seen=(slots.logged, accounts.logged))  # starts empty

    def _replace(self, worker: _Process) -> None:
        worker.process.kill()
        worker.process.wait()
        if self._closed:
            raise RpcError(INTERNAL_ERROR, "the node is shutting down")
        fresh = self._spawn()
        with self._available:
            self._all[self._all.index(worker)] = fresh
            self._idle.append(fresh)
            self._available.notify()

    def close(self) -> None:
        """Stops every worker (after the reads they are answering)."""
        with self._available:
            self._closed = True
            self._available.notify_all()
        for worker in self._all:
            worker.close()


# -- in the worker process ------------------------------------------------------------------------


class _Reader:
    """A worker's chain: its own read connection and caches, the clock of the current read."""

    def __init__(self, path: str, chain_id: int, dev: bool) -> None:
        self.store = Store(Path(path), reader=True)
        self.clock = Clock(frozen=False, offset=0, next_timestamp=None)
        self.slots, self.accounts = SlotCache(), AccountCache()
        cls = chain_class(
            chain_id,
            self._timestamp if dev else None,
            account_cache=self.accounts,
            slot_cache=self.slots,
        )
        self.chain = cls(self.store.db)

    def _timestamp(self, parent: BlockHeaderAPI) -> int:
        return execution.pending_timestamp(parent, self.clock)


def _serve(reader: _Reader, requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answers pickled requests until the node closes the pipe."""
    while True:
        try:
            kind, message, block, clock, advances = pickle.load(requests)
        except EOFError:
            return
        reader.clock = clock
        reader.slots.replay(advances[0])  # the producer's commits since the last request
        reader.accounts.replay(advances[1])
        try:
            answer: tuple[Any, ...] = ("ok", READS[kind](reader.chain, message, block))
        except RpcError as exc:  # as values: exceptions with keyword fields do not pickle
            answer = ("error", exc.code, exc.message, exc.data)
        except Exception as exc:  # a fault: reported as the node's own threads report it
            log.exception("read worker: %s failed", kind)
            answer = ("error", INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}", None)
        finally:
            reader.store.rollback()  # end the read transaction: the next read sees newer blocks
        pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()


def worker(argv: list[str]) -> None:
    """A worker process's main: ``argv`` is the chain file, the chain id and the mode."""
    path, chain_id, mode = argv
    answers = os.fdopen(os.dup(1), "wb")  # the answers' own pipe; anything printed goes to stderr
    os.dup2(2, 1)
    reader = _Reader(path, int(chain_id), mode == "dev")
    tune_gc()
    tune_switching()
    _serve(reader, sys.stdin.buffer, answers)

"""How a node is configured: one frozen dataclass, filled by the CLI or by a test."""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_CHAIN_ID", "SWITCH_INTERVAL", "NodeConfig", "tune_gc", "tune_switching"]

#: The chain id of a VoucherChain network unless configured otherwise.
DEFAULT_CHAIN_ID = 20261126


@dataclass(frozen=True)
class NodeConfig:
    """Configuration of one node.

    ``authority_key`` is the operator's key (governor and block sealer); with ``dev`` and no key
    the node generates one on first start and keeps it encrypted in the data dir. ``registry``
    is the ParticipantRegistry's address once known (dev mode learns it by deploying).
    ``block_interval`` is the minimum time between two blocks, in seconds; with ``auto_seal``
    off, blocks are sealed only by :meth:`Node.seal`. ``read_token``, when set, is required as a
    bearer token on every HTTP request.
    """

    data_dir: Path
    chain_id: int = DEFAULT_CHAIN_ID
    dev: bool = False
    authority_key: bytes | None = None
    registry: str | None = None
    block_interval: float = 0.02
    auto_seal: bool = True
    max_block_txs: int = 300
    max_tx_bytes: int = 128 * 1024
    read_token: str | None = None
    #: Dev mode only: unlocked accounts (the authority first) for eth_accounts and
    #: eth_sendTransaction, as hardhat/anvil offer; keys derived from the authority key.
    dev_accounts: int = 0
    #: Seal each transaction's block inside ``submit`` (as eth-tester's automine): the receipt
    #: exists when eth_sendRawTransaction returns. For tests; no batching.
    automine: bool = False
    #: Dev mode only: chain time ignores the wall clock: each block is one second after its
    #: parent, plus what ``evm_increaseTime`` adds, or exactly what ``evm_setNextBlockTimestamp``
    #: sets — so tests of deadlines get exact timestamps, as under eth-tester.
    frozen_clock: bool = False
    #: Processes answering eth_call and eth_estimateGas beside the node's own (0: the node's
    #: threads answer them). Each is a Python interpreter with its own core to use.
    read_workers: int = 0
    #: SQLite ``synchronous`` pragma: FULL survives power loss, NORMAL only process crashes.
    synchronous: str = "FULL"


def tune_gc() -> None:
    """For a process that is a node or a read worker (never a library's host process): the
    cyclic collector runs every 10,000 net allocations instead of every 700, and what exists
    now — modules, the chain's classes, caches — leaves its scans for good. py-evm allocates
    objects by the million per block; re-importing a bench chain's blocks spent 184–232 ms
    in 447 collections with the default thresholds, 77–96 ms in 20 with these."""
    gc.set_threshold(10_000, 10, 10)
    gc.freeze()


#: The interpreter's switch interval in a node's processes, in seconds (CPython's own: 5 ms).
SWITCH_INTERVAL = 0.0005


def tune_switching() -> None:
    """For a process that is a node or a read worker (as :func:`tune_gc`): a thread waiting for
    the GIL gets it after at most 0.5 ms instead of 5. The block producer holds the GIL for
    tens of milliseconds a block, and every step of a request thread (parse, hand to the read
    worker, answer) waits for it — as does the producer itself on returning from each SQLite
    call, which releases it. On ``scripts/bench``, four alternating pairs: 12.5–14.7 → 15.4–17.8
    orders/s, an estimate's answer ~36 → ~26 ms (docs/benchmarks.md); 1 ms did not do it."""
    sys.setswitchinterval(SWITCH_INTERVAL)

"""Anvil (Foundry's dev node, npm ``@foundry-rs/anvil``) in a subprocess: an external EVM node
that nobody here wrote, for the test backend ``anvil`` and ``scripts/bench``.

``make anvil-deps`` installs it into ``tests/external/node_modules`` (pinned in
``package-lock.json``). The binary is run directly (``npx anvil`` forks a child that outlives a
kill), with ``HOME`` in a temporary folder and ``--prune-history``: otherwise Anvil writes ~1 GB
of block state per 3,000 blocks under ``~/.foundry`` (docs: /work/shared/STACK.md).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from voucher_chain.sandbox import RpcChainControl

__all__ = [
    "ANVIL_BIN",
    "ANVIL_DEV_KEY",
    "Anvil",
    "AnvilChainControl",
    "AnvilUnavailable",
    "PendingReadsProvider",
    "anvil_binary",
]

_PLATFORMS = {("Linux", "x86_64"): "linux-amd64", ("Linux", "aarch64"): "linux-arm64"}
_HERE = Path(__file__).resolve().parent
#: Where ``make anvil-deps`` puts the binary on this platform.
ANVIL_BIN = (
    _HERE
    / "node_modules"
    / "@foundry-rs"
    / f"anvil-{_PLATFORMS.get((platform.system(), platform.machine()), 'linux-amd64')}"
    / "bin"
    / "anvil"
)
#: Anvil's first dev account's key (Hardhat's well-known test mnemonic): public, tests only.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
_LISTENING = re.compile(r"Listening on ([0-9.]+):(\d+)")


class AnvilChainControl(RpcChainControl):
    """:class:`~voucher_chain.sandbox.RpcChainControl` on Anvil, with the embedded node's
    frozen clock: each block is one second after its parent unless a timestamp is set
    (``anvil_setBlockTimestampInterval``), so deadline tests get exact timestamps."""

    def __init__(self, w3: Web3) -> None:
        super().__init__(w3)
        self._rpc("anvil_setBlockTimestampInterval", [1])


class PendingReadsProvider(HTTPProvider):
    """Runs ``eth_call`` and ``eth_estimateGas`` on Anvil's pending block unless another block is
    named, as eth-tester and the embedded node's frozen clock do: a call refused "at the next
    block" (an expiry one second ahead) is then refused by the estimate before the send,
    instead of passing at the latest block's time and failing once mined."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method in _READS and (len(params) == 1 or params[1] == "latest"):
            params = [params[0], "pending", *params[2:]]
        return super().make_request(method, params)


_READS = frozenset({"eth_call", "eth_estimateGas"})


class AnvilUnavailable(RuntimeError):
    """The Anvil binary is not installed, or Anvil did not start."""


def anvil_binary() -> Path:
    """The installed binary, or :class:`AnvilUnavailable` saying how to install it."""
    if not os.access(ANVIL_BIN, os.X_OK):
        raise AnvilUnavailable(f"no Anvil binary at {ANVIL_BIN}: run `make anvil-deps`")
    return ANVIL_BIN


class Anvil:
    """An Anvil node on a free loopback port, stopped (and its ``HOME`` removed) on exit.

    Chain id 31337, ``accounts`` unlocked dev accounts with 10,000 ether each, Prague rules,
    automine (a block per transaction, as Anvil runs by default), base fee 0. Anvil's
    ``eth_maxPriorityFeePerGas`` never answers below 1 gwei, so web3-filled transactions pay a
    tip: the dev accounts hold ether for it, and a fresh account needs funding (or a fee of 0,
    which Anvil accepts at base fee 0).
    """

    def __init__(
        self, *, accounts: int = 80, keep_states: int = 256, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.accounts = accounts
        self.keep_states = keep_states
        self.extra_args = extra_args
        self.url = ""
        self._home: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "Anvil is not running"
        return self._process.pid

    @property
    def log(self) -> Path:
        """Anvil's stdout and stderr (its request log)."""
        assert self._home is not None, "Anvil is not running"
        return self._home / "anvil.log"

    def start(self, timeout: float = 20.0) -> Anvil:
        binary = anvil_binary()
        self._home = Path(tempfile.mkdtemp(prefix="anvil-home-"))
        args = [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--hardfork",
            "prague",
            "--prune-history",
            str(self.keep_states),
            "--base-fee",
            "0",
            "--accounts",
            str(self.accounts),
            *self.extra_args,
        ]
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "HOME": str(self._home)},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log.read_text(errors="replace"))
            if found:
                self.url = f"http://{found.group(1)}:{found.group(2)}"
                return self
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        tail = self.log.read_text(errors="replace")[-2000:]
        self.stop()
        raise AnvilUnavailable(f"Anvil did not start within {timeout:.0f} s:\n{tail}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

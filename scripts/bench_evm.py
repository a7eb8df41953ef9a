"""Benchmark (not a test): how fast the EVM interpreter itself is — py-evm, which the embedded
node executes with, against revm (Rust, through ``pyrevm``), on the same bytecode.

The bytecode is a loop of 10,000 iterations, each an ``SSTORE`` and an ``SLOAD`` of slot 0 and
a few stack and jump opcodes (2,413,003 gas). py-evm runs it as the node runs a call: through
``Node.execute`` on a dev node (SQLite-backed state behind the node's caches); revm runs it in
its in-memory database. Both report the gas used, which must be equal. Best of 5 runs each.

``pyrevm`` is not a dependency of the project: ``scripts/bench_evm`` installs it (pinned) into
its own ``.venv-revm`` and runs this file there with ``--revm`` for that half.

    scripts/bench_evm
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: PUSH2 10000 | JUMPDEST | DUP1 PUSH1 0 SSTORE | PUSH1 0 SLOAD POP | PUSH1 1 SWAP1 SUB |
#: DUP1 PUSH1 3 JUMPI | STOP
LOOP = bytes.fromhex("6127105b8060005560005450600190038060035700")
RUNS = 5


def deploy_runtime(w3: Any, runtime: bytes) -> str:
    """Deploys a contract whose code is ``runtime`` (init code: CODECOPY it, RETURN it) from
    ``w3``'s default account; its address."""
    size = len(runtime)
    init = bytes([0x60, size, 0x60, 12, 0x60, 0, 0x39, 0x60, size, 0x60, 0, 0xF3])
    tx = w3.eth.send_transaction({"data": init + runtime})
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


def py_evm() -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from eth_account import Account

    from voucher_chain.node import Node, NodeConfig, signing_web3

    with tempfile.TemporaryDirectory() as tmp:
        with Node(NodeConfig(data_dir=Path(tmp), dev=True, auto_seal=False, automine=True)) as node:
            w3 = signing_web3(node)
            target = deploy_runtime(w3, LOOP)
            message: dict[str, Any] = {
                "sender": bytes.fromhex(Account.from_key(node.authority_key).address[2:]),
                "to": bytes.fromhex(target[2:]),
                "data": b"",
            }
            best, gas = float("inf"), 0
            with node.reading() as chain:
                for _ in range(RUNS):
                    t0 = time.perf_counter()
                    result = node.execute(chain, node.head(), **message)
                    best = min(best, time.perf_counter() - t0)
                    assert result.success
                    gas = result.gas_used
    return {"seconds": best, "gas": gas}


def revm() -> dict[str, float]:
    from pyrevm import EVM, AccountInfo  # type: ignore[import-not-found]

    evm = EVM()
    target, caller = "0x" + "11" * 20, "0x" + "22" * 20
    evm.insert_account_info(target, AccountInfo(code=LOOP))
    evm.insert_account_info(caller, AccountInfo(balance=10**18))
    best, gas = float("inf"), 0
    for _ in range(RUNS):
        checkpoint = evm.snapshot()
        t0 = time.perf_counter()
        evm.message_call(caller, target, b"", gas=30_000_000)
        best = min(best, time.perf_counter() - t0)
        gas = evm.result.gas_used
        evm.revert(checkpoint)
    return {"seconds": best, "gas": gas}


def main() -> int:
    if sys.argv[1:] == ["--revm"]:
        print(json.dumps(revm()))
        return 0
    import platform
    import subprocess
    from datetime import UTC, datetime

    print(f"# scripts/bench_evm  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    ours = py_evm()
    revm_python = ROOT / ".venv-revm" / "bin" / "python"
    out = subprocess.run(
        [str(revm_python), __file__, "--revm"], capture_output=True, text=True, check=True
    )
    theirs = json.loads(out.stdout)
    for name, r in (("py-evm (Node.execute)", ours), ("revm (pyrevm)", theirs)):
        rate = r["gas"] / r["seconds"] / 1e6
        ms = r["seconds"] * 1000
        print(f"{name:<22} gas {int(r['gas']):>10,}  {ms:9.2f} ms  {rate:8.1f} Mgas/s")
    if ours["gas"] != theirs["gas"]:
        print("gas differs: the two EVMs did not run the same thing")
        return 1
    print(f"revm / py-evm: ×{ours['seconds'] / theirs['seconds']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

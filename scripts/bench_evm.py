"""Benchmark (not a test): how fast the EVM interpreter itself is — py-evm with its own opcode
loop, py-evm with the node's (``voucher_chain/node/interpreter.py``), and revm (Rust, through
``pyrevm``) — on the same bytecode.

Two programs of 10,000 iterations each: a *storage loop* (an ``SSTORE`` and an ``SLOAD`` of slot
0 and a few stack and jump opcodes: 2,413,003 gas), and a *stack loop* (``MUL``, ``ADD``,
``MSTORE`` and stack and jump opcodes only: what the node's loop runs inline). py-evm runs them
as the node runs a call: through ``Node.execute`` on a dev node (SQLite-backed state behind the
node's caches), once with py-evm's loop (``interpreter.reference_loop``) and once with the
node's; revm runs them in its in-memory database. All report the gas used, which must be equal.
Best of 5 runs each.

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
#: PUSH2 10000 | JUMPDEST | DUP1 PUSH1 3 MUL PUSH1 7 ADD PUSH1 0 MSTORE | PUSH1 1 SWAP1 SUB |
#: DUP1 PUSH1 3 JUMPI | STOP
STACK_LOOP = bytes.fromhex("6127105b80600302600701600052600190038060035700")
PROGRAMS = {"storage loop": LOOP, "stack loop": STACK_LOOP}
RUNS = 5


def init_code(runtime: bytes) -> bytes:
    """Creation code deploying ``runtime`` as is: CODECOPY it (behind this 12-byte prefix) to
    memory, RETURN it."""
    n = len(runtime).to_bytes(2, "big")
    # PUSH2 n | PUSH1 12 | PUSH0 | CODECOPY | PUSH2 n | PUSH0 | RETURN
    return bytes([0x61, *n, 0x60, 12, 0x5F, 0x39, 0x61, *n, 0x5F, 0xF3]) + runtime


def deploy_runtime(w3: Any, runtime: bytes) -> str:
    """Deploys a contract whose code is ``runtime`` from ``w3``'s default account; its
    address."""
    tx = w3.eth.send_transaction({"data": init_code(runtime)})
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


def py_evm() -> dict[str, dict[str, dict[str, float]]]:
    """Per program, per loop ("py-evm loop", "node loop"): best seconds and gas."""
    sys.path.insert(0, str(ROOT))
    from contextlib import nullcontext

    from eth_account import Account

    from voucher_chain.node import Node, NodeConfig, signing_web3
    from voucher_chain.node.interpreter import reference_loop

    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with Node(NodeConfig(data_dir=Path(tmp), dev=True, auto_seal=False, automine=True)) as node:
            w3 = signing_web3(node)
            sender = bytes.fromhex(Account.from_key(node.authority_key).address[2:])
            for name, program in PROGRAMS.items():
                target = bytes.fromhex(deploy_runtime(w3, program)[2:])
                results[name] = {}
                for loop, context in (("py-evm loop", reference_loop), ("node loop", nullcontext)):
                    best, gas = float("inf"), 0
                    with node.reading() as chain, context():
                        for _ in range(RUNS):
                            t0 = time.perf_counter()
                            result = node.execute(
                                chain, node.head(), sender=sender, to=target, data=b""
                            )
                            best = min(best, time.perf_counter() - t0)
                            assert result.success
                            gas = result.gas_used
                    results[name][loop] = {"seconds": best, "gas": gas}
    return results


def revm() -> dict[str, dict[str, float]]:
    from pyrevm import EVM, AccountInfo  # type: ignore[import-not-found]

    results = {}
    evm = EVM()
    caller = "0x" + "22" * 20
    evm.insert_account_info(caller, AccountInfo(balance=10**18))
    for i, (name, program) in enumerate(PROGRAMS.items()):
        target = "0x" + f"{0x11 + i:02x}" * 20
        evm.insert_account_info(target, AccountInfo(code=program))
        best, gas = float("inf"), 0
        for _ in range(RUNS):
            checkpoint = evm.snapshot()
            t0 = time.perf_counter()
            evm.message_call(caller, target, b"", gas=30_000_000)
            best = min(best, time.perf_counter() - t0)
            gas = evm.result.gas_used
            evm.revert(checkpoint)
        results[name] = {"seconds": best, "gas": gas}
    return results


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
    status = 0
    for program in PROGRAMS:
        print(f"\n{program}:")
        rows = {**ours[program], "revm (pyrevm)": theirs[program]}
        for name, r in rows.items():
            rate = r["gas"] / r["seconds"] / 1e6
            print(
                f"  {name:<16} gas {int(r['gas']):>10,}  {r['seconds'] * 1000:9.2f} ms"
                f"  {rate:8.1f} Mgas/s"
            )
        if len({int(r["gas"]) for r in rows.values()}) != 1:
            print("  gas differs: they did not run the same thing")
            status = 1
        reference, node, native = (r["seconds"] for r in rows.values())
        print(
            f"  node loop / py-evm loop: ×{reference / node:.1f} faster; "
            f"revm / node loop: ×{node / native:.0f} faster"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())

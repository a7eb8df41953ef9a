"""``voucher-chain node``: run a node, or verify a copy of a chain."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from voucher_chain.connect import TOKEN_ENV
from voucher_chain.node.config import DEFAULT_CHAIN_ID, NodeConfig, tune_gc, tune_switching
from voucher_chain.node.errors import NodeConfigError

__all__ = ["TOKEN_ENV", "add_node_parser", "run"]


def add_node_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "node",
        help="run the embedded chain node (JSON-RPC over HTTP), or verify a chain",
        description="Run the embedded permissioned chain node, or `node verify` a data dir.",
    )
    parser.add_argument("action", nargs="?", choices=["run", "verify"], default="run")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--dev", action="store_true", help="generate a key, deploy the protocol")
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID)
    parser.add_argument("--block-interval-ms", type=int, default=20)
    parser.add_argument("--key-file", type=Path, help="the authority key (outside dev mode)")
    parser.add_argument("--registry", help="ParticipantRegistry address (enables permissioning)")
    parser.add_argument("--authority", help="verify: the expected sealing authority address")
    parser.add_argument(
        "--replay", action="store_true", help="verify: also re-execute every block from genesis"
    )
    parser.add_argument(
        "--dev-accounts", type=int, default=0, help="dev: unlocked accounts for eth_sendTransaction"
    )
    parser.add_argument(
        "--read-workers",
        type=int,
        default=1,
        help="processes answering eth_call/eth_estimateGas (0: the node's own threads)",
    )


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        if args.action == "verify":
            return _verify(args)
        return _serve(args)
    except NodeConfigError as exc:
        print(f"voucher-chain node: {exc}", file=sys.stderr)
        return 2


def _verify(args: argparse.Namespace) -> int:
    from voucher_chain.node.verify import verify_chain

    report = verify_chain(args.data_dir, authority=args.authority, replay=args.replay)
    if report.ok:
        print(
            f"ok: {report.blocks} blocks, {report.transactions} transactions, "
            f"sealed by {report.authority}"
        )
        return 0
    print(f"FAILED at block {report.block}: {report.problem}")
    return 1


def _serve(args: argparse.Namespace) -> int:
    from voucher_chain.node.core import Node
    from voucher_chain.node.devnet import ensure_dev_protocol
    from voucher_chain.node.http import RpcServer
    from voucher_chain.node.keys import operator_key

    key = operator_key(args.key_file) if args.key_file else None
    token = os.environ.get(TOKEN_ENV) or None
    config = NodeConfig(
        data_dir=args.data_dir,
        chain_id=args.chain_id,
        dev=args.dev,
        authority_key=key,
        registry=args.registry,
        block_interval=args.block_interval_ms / 1000,
        read_token=token,
        dev_accounts=args.dev_accounts,
        read_workers=args.read_workers,
    )
    node = Node(config)
    server = RpcServer(node, args.host, args.port)
    try:
        protocol = ensure_dev_protocol(node) if args.dev else node.get_meta("protocol")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        tune_gc()  # after start-up: its objects leave the collector's scans
        tune_switching()
        server.start()
        print(
            json.dumps(
                {
                    "url": server.url,
                    "chain_id": node.chain_id,
                    "head": node.head().block_number,
                    "authority": node.get_meta("authority"),
                    "protocol": protocol,
                }
            ),
            flush=True,
        )
        stop.wait()
    finally:
        server.stop()
        node.close()
    return 0

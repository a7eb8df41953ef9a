"""`voucher-chain`: the one command-line entry point.

The CLI is the composition root: it is the only module that reaches up into the ``api``
package (lazily, inside ``serve``); nothing else in ``voucher_chain`` imports it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    from api.main import serve
    from api.settings import Settings

    overrides: dict[str, object] = {"rpc_url": args.rpc, "deployment_path": args.deployment}
    if args.keystore is not None:
        overrides["keystore_path"] = args.keystore
    if args.relayer is not None:
        overrides["relayer_account"] = args.relayer
    serve(Settings(**overrides), host=args.host, port=args.port)  # type: ignore[arg-type]
    return 0


def _up(args: argparse.Namespace) -> int:
    """The embedded dev node (persistent, protocol deployed on first start, demo data loaded on
    a fresh chain) and the API on it, signing for the demo organisations (development only)."""
    import logging

    from api.demo_data import LOGINS_FILE, custody_settings, ensure_demo_data
    from api.main import WEB_APPS, serve
    from api.settings import Settings
    from voucher_chain.node import Node, NodeConfig, RpcServer, ensure_dev_protocol

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    data_dir: Path = args.data_dir
    database = data_dir / "api.sqlite3"
    node = Node(NodeConfig(data_dir=data_dir / "node", dev=True, read_workers=1))
    try:
        ensure_dev_protocol(node)
        overrides: dict[str, object] = custody_settings(data_dir)
        demo = None if args.no_demo else ensure_demo_data(node, data_dir, database)
        if demo is not None:
            overrides.update(demo.settings_overrides())
        rpc = RpcServer(node, host=args.host, port=args.rpc_port).start()
        settings = Settings(
            rpc_url=rpc.url,
            deployment_path=data_dir / "node" / "protocol.json",
            database_path=database,
            **overrides,  # type: ignore[arg-type]
        )
        api_url = f"http://{args.host}:{args.port}"
        print(f"chain (JSON-RPC): {rpc.url}  data: {data_dir / 'node'}")
        print(f"API:              {api_url}  (OpenAPI at {api_url}/docs)")
        print(f"Web apps:         {api_url}/app/")
        for name, title in WEB_APPS.items():
            print(f"  {title:<21}{api_url}/app/{name}/")
        logins = data_dir / LOGINS_FILE
        if demo is not None and logins.exists():
            state = "loaded now" if demo.seeded_now else "loaded on first start"
            print(f"Demo data ({state}; development only). Logins, also in {logins}:")
            print(logins.read_text().rstrip())
            print(f'Try: curl -H "Authorization: Bearer <API key>" {api_url}/vouchers')
        try:
            serve(settings, host=args.host, port=args.port)
        finally:
            rpc.stop()
    finally:
        node.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="voucher-chain",
        description="Innovation vouchers (创新券) on a permissioned EVM chain.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "demo",
        help="play the source document's story on an in-process chain and exit",
    )
    from voucher_chain.node.cli import add_node_parser

    add_node_parser(commands)
    from voucher_chain.besu.cli import add_besu_parser

    add_besu_parser(commands)
    from voucher_chain.audit.cli import add_audit_parser

    add_audit_parser(commands)
    serve = commands.add_parser(
        "serve",
        help="run the HTTP API against any JSON-RPC node where the protocol is deployed",
        description="Other settings come from VOUCHER_CHAIN_* variables (see docs/api.md).",
    )
    serve.add_argument("--rpc", required=True, help="JSON-RPC URL of the node")
    serve.add_argument(
        "--deployment",
        type=Path,
        required=True,
        help="JSON file of contract name → address (the dev node writes protocol.json)",
    )
    serve.add_argument("--keystore", type=Path, help="custody keystore for custodial orgs")
    serve.add_argument("--relayer", help="account that relays self-custody requests")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    up = commands.add_parser(
        "up",
        help="start the embedded dev node and the API on it (what `make run` does)",
    )
    up.add_argument("--data-dir", type=Path, default=Path("var"))
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000, help="API port")
    up.add_argument("--rpc-port", type=int, default=8545, help="JSON-RPC port")
    up.add_argument(
        "--no-demo", action="store_true", help="do not load demo data into a fresh chain"
    )
    args = parser.parse_args(argv)
    if args.command == "up":
        return _up(args)
    if args.command == "node":
        from voucher_chain.node.cli import run

        return run(args)
    if args.command == "besu":
        from voucher_chain.besu.cli import run as run_besu

        return run_besu(args)
    if args.command == "audit":
        from voucher_chain.audit.cli import run as run_audit

        return run_audit(args)
    if args.command == "serve":
        return _serve(args)
    if args.command == "demo":
        from voucher_chain.demo import run_demo

        run_demo()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

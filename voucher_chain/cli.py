"""`voucher-chain`: the one command-line entry point."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["main"]


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
    args = parser.parse_args(argv)
    if args.command == "node":
        from voucher_chain.node.cli import run

        return run(args)
    if args.command == "demo":
        from voucher_chain.demo import run_demo

        run_demo()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

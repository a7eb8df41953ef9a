"""``voucher-chain besu …``: what running the protocol on a Besu QBFT network needs from us.

- ``genesis``: a free-gas QBFT genesis for the validators' addresses;
- ``deploy``: the protocol deployed through any JSON-RPC node by the governor's key, its
  addresses written for ``voucher-chain serve --deployment``;
- ``sync-allowlist``: Besu's accounts allowlist made equal to the registry's active accounts
  (the permissions file and/or each node's PERM API).

Everything else is Besu's own configuration (deploy/besu/, docs/deploy/besu.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from voucher_chain.besu.allowlist import (
    AllowlistChange,
    active_accounts,
    reload_from_file,
    sync_over_rpc,
    write_permissions_file,
)
from voucher_chain.besu.genesis import qbft_genesis
from voucher_chain.connect import http_web3
from voucher_chain.contracts import Protocol, deploy_protocol
from voucher_chain.errors import VoucherChainError

__all__ = ["add_besu_parser", "run"]

PASSPHRASE_ENV = "VOUCHER_CHAIN_KEY_PASSPHRASE"


def add_besu_parser(commands: Any) -> None:
    besu = commands.add_parser("besu", help="genesis, deployment and allowlist sync for Besu")
    actions = besu.add_subparsers(dest="besu_command", required=True)

    genesis = actions.add_parser("genesis", help="write a free-gas QBFT genesis")
    genesis.add_argument("--validator", action="append", required=True, help="address (×4+)")
    genesis.add_argument("--chain-id", type=int, required=True)
    genesis.add_argument("--block-period", type=int, default=1, help="seconds per block")
    genesis.add_argument("--out", type=Path, help="file (default: stdout)")

    deploy = actions.add_parser("deploy", help="deploy the protocol through a JSON-RPC node")
    deploy.add_argument("--rpc", required=True, help="JSON-RPC URL of an (RPC) node")
    deploy.add_argument(
        "--key-file", type=Path, required=True, help=f"governor's V3 keystore (${PASSPHRASE_ENV})"
    )
    deploy.add_argument("--governor-credit-code", required=True, help="the ministry's code")
    deploy.add_argument("--governor-region", type=int, default=110000)
    deploy.add_argument("--out", type=Path, required=True, help="deployment file to write")

    sync = actions.add_parser(
        "sync-allowlist", help="make Besu's accounts allowlist the registry's active accounts"
    )
    sync.add_argument("--rpc", required=True, help="JSON-RPC URL to read the registry from")
    sync.add_argument("--deployment", type=Path, required=True, help="contract name → address")
    sync.add_argument("--permissions-file", type=Path, help="permissions_config.toml to rewrite")
    sync.add_argument(
        "--node-rpc",
        action="append",
        default=[],
        help="a Besu node's JSON-RPC URL with the PERM API (repeat for every node)",
    )
    sync.add_argument(
        "--reload",
        action="store_true",
        help="after rewriting the file, tell --node-rpc nodes to"
        " re-read it (perm_reloadPermissionsFromFile) instead of sending the difference",
    )
    sync.add_argument("--keep", action="append", default=[], help="also allow this account")
    sync.add_argument("--dry-run", action="store_true", help="print the allowlist, change nothing")


def _genesis(args: argparse.Namespace) -> int:
    document = qbft_genesis(
        args.validator, chain_id=args.chain_id, block_period_seconds=args.block_period
    )
    text = json.dumps(document, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
    return 0


def _deploy(args: argparse.Namespace) -> int:
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if not passphrase:
        raise VoucherChainError(f"set {PASSPHRASE_ENV} to the key file's passphrase")
    try:
        key = Account.decrypt(json.loads(args.key_file.read_text()), passphrase)
    except (OSError, ValueError) as exc:
        raise VoucherChainError(f"cannot open {args.key_file}: {exc}") from None
    governor = Account.from_key(key)
    w3 = http_web3(args.rpc)
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build([governor]), layer=0)
    protocol = deploy_protocol(
        w3,
        governor.address,
        governor_credit_code_hash=Web3.keccak(text=args.governor_credit_code),
        governor_region=args.governor_region,
    )
    addresses = {name: str(address) for name, address in protocol.addresses().items()}
    args.out.write_text(json.dumps(addresses, indent=2) + "\n")
    print(json.dumps({"chain_id": w3.eth.chain_id, "governor": governor.address, **addresses}))
    return 0


def _report(target: str, change: AllowlistChange) -> None:
    print(
        f"{target}: {len(change.allowlist)} accounts allowed, "
        f"+{len(change.added)} {list(change.added)} -{len(change.removed)} {list(change.removed)}"
    )


def _sync(args: argparse.Namespace) -> int:
    if args.permissions_file is None and not args.node_rpc and not args.dry_run:
        raise VoucherChainError("give --permissions-file and/or --node-rpc (or --dry-run)")
    if args.reload and (args.permissions_file is None or not args.node_rpc):
        raise VoucherChainError("--reload needs --permissions-file and --node-rpc")
    try:
        addresses = json.loads(args.deployment.read_text())
    except (OSError, ValueError) as exc:
        raise VoucherChainError(f"cannot read the deployment {args.deployment}: {exc}") from None
    w3 = http_web3(args.rpc)
    accounts = active_accounts(Protocol.at(w3, addresses), keep=args.keep)
    if args.dry_run:
        print("\n".join(accounts))
        return 0
    if args.permissions_file is not None:
        _report(str(args.permissions_file), write_permissions_file(args.permissions_file, accounts))
    for url in args.node_rpc:
        node = http_web3(url)
        if args.reload:
            reload_from_file(node)
            print(f"{url}: reloaded {args.permissions_file}")
        else:
            _report(url, sync_over_rpc(node, accounts))
    return 0


def run(args: argparse.Namespace) -> int:
    """Runs ``voucher-chain besu <command>``; a :class:`VoucherChainError` exits 1 with its
    message."""
    handlers = {"genesis": _genesis, "deploy": _deploy, "sync-allowlist": _sync}
    try:
        return handlers[args.besu_command](args)
    except (VoucherChainError, ValueError) as exc:
        print(f"voucher-chain besu {args.besu_command}: {exc}", file=sys.stderr)
        return 1

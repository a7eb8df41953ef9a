"""Running the protocol on a Hyperledger Besu QBFT network: genesis, deployment, and the
accounts allowlist kept in step with the on-chain participant registry (docs/deploy/besu.md).

Nothing here talks to Besu except through standard JSON-RPC and Besu's ``perm_*`` methods.
"""

from voucher_chain.besu.allowlist import (
    AllowlistChange,
    BesuRpcError,
    active_accounts,
    reload_from_file,
    render_permissions,
    sync_over_rpc,
    write_permissions_file,
)
from voucher_chain.besu.genesis import qbft_extra_data, qbft_genesis

__all__ = [
    "AllowlistChange",
    "BesuRpcError",
    "active_accounts",
    "qbft_extra_data",
    "qbft_genesis",
    "reload_from_file",
    "render_permissions",
    "sync_over_rpc",
    "write_permissions_file",
]

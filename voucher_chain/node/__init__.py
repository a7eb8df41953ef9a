"""The embedded permissioned chain node: py-evm on SQLite, a block producer, account
permissioning and Ethereum JSON-RPC (in-process provider and HTTP).

Data flow of a transaction: ``rpc`` (eth_sendRawTransaction) → ``admission`` (size, RLP,
signature, chain id, governor-only creation, registry membership) → ``mempool`` (per-sender
nonce order) → ``core`` producer (``chain.build_block`` = ``mine_all``) → ``store`` (one SQLite
commit per block, with indexes and the authority's seal) → readers. ``verify`` re-checks a copy
of the chain. This package knows nothing of services, signer, audit or api.

In-process::

    node = Node(NodeConfig(data_dir=path, dev=True))
    ensure_dev_protocol(node)              # dev: deploy the protocol (once)
    w3 = Web3(NodeProvider(node))          # or signing_web3(node, key) to transact
"""

from voucher_chain.node.config import DEFAULT_CHAIN_ID, NodeConfig
from voucher_chain.node.core import Node
from voucher_chain.node.devnet import ensure_dev_protocol, signing_web3
from voucher_chain.node.errors import NodeConfigError, NodeError, RpcError, TransactionRejected
from voucher_chain.node.http import RpcServer
from voucher_chain.node.provider import NodeProvider
from voucher_chain.node.rpc import Dispatcher
from voucher_chain.node.verify import VerifyReport, verify_chain

__all__ = [
    "DEFAULT_CHAIN_ID",
    "Dispatcher",
    "Node",
    "NodeConfig",
    "NodeConfigError",
    "NodeError",
    "NodeProvider",
    "RpcError",
    "RpcServer",
    "TransactionRejected",
    "VerifyReport",
    "ensure_dev_protocol",
    "signing_web3",
    "verify_chain",
]

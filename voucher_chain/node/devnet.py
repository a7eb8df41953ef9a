"""Dev mode: a fresh node deploys the protocol at once, so it is usable on first start.

The deployment goes through the node's own in-process provider, signed by the authority key
(the governor), and its addresses are recorded in the node's database (``meta.protocol``) and
in ``DATA_DIR/protocol.json`` for other processes; the registry address then turns on
permissioning.
"""

from __future__ import annotations

import json

from eth_account import Account
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from voucher_chain.contracts.deploy import DEV_GOVERNOR_CODE, deploy_protocol
from voucher_chain.files import write_atomically
from voucher_chain.node.core import Node
from voucher_chain.node.provider import NodeProvider

__all__ = ["DEV_GOVERNOR_CREDIT_CODE", "PROTOCOL_FILE", "ensure_dev_protocol", "signing_web3"]

PROTOCOL_FILE = "protocol.json"
#: The governor organisation's (hashed) credit code on a dev chain.
DEV_GOVERNOR_CREDIT_CODE = DEV_GOVERNOR_CODE


def signing_web3(node: Node, *private_keys: bytes) -> Web3:
    """A web3 on ``node`` whose ``transact`` signs locally with ``private_keys`` (default: the
    authority key)."""
    w3 = Web3(NodeProvider(node))
    accounts = [Account.from_key(k) for k in (private_keys or (node.authority_key,))]
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(accounts), layer=0)
    w3.eth.default_account = accounts[0].address
    return w3


def ensure_dev_protocol(node: Node) -> dict[str, str]:
    """The protocol's addresses on ``node``, deploying it first if this chain has none."""
    stored = node.get_meta("protocol")
    if stored:
        addresses = {str(k): str(v) for k, v in stored.items()}
    else:
        w3 = signing_web3(node)
        protocol = deploy_protocol(
            w3,
            w3.eth.default_account,  # type: ignore[arg-type]
            governor_credit_code_hash=Web3.keccak(text=DEV_GOVERNOR_CREDIT_CODE),
        )
        addresses = {name: str(address) for name, address in protocol.addresses().items()}
        node.set_meta("protocol", addresses)
    if node.registry is None:
        node.set_registry(addresses["ParticipantRegistry"])
    write_atomically(node.config.data_dir / PROTOCOL_FILE, json.dumps(addresses, indent=2) + "\n")
    return addresses

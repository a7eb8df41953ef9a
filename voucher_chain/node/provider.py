"""An in-process web3 provider: ``Web3(NodeProvider(node))`` talks to a node with no HTTP.

Requests go through the same :class:`~voucher_chain.node.rpc.Dispatcher` as the HTTP server,
and results pass through a JSON round trip, so web3.py sees exactly what a remote client sees.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from voucher_chain.node.core import Node
from voucher_chain.node.rpc import Dispatcher, handle_request

__all__ = ["NodeProvider"]


class NodeProvider(BaseProvider):
    """A web3 provider calling ``node``'s JSON-RPC dispatcher directly."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        self.dispatcher = Dispatcher(node)
        self._ids = itertools.count(1)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        response = handle_request(self.dispatcher, json.loads(json.dumps(request)))
        return json.loads(json.dumps(response))  # type: ignore[no-any-return]

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True

"""A web3 connection to a chain's JSON-RPC over HTTP: one place for the timeout and the token.

A permissioned chain's RPC is not public: the embedded node asks for a bearer token when it is
started with ``VOUCHER_CHAIN_RPC_TOKEN`` set, and Besu does when its JSON-RPC authentication is
on (``--rpc-http-authentication-enabled`` with a JWT public key; docs/deploy/besu.md). Every
client here — the API, the indexer's CLI, the Besu commands — connects through
:func:`http_web3`, so pointing one at such a node is a setting, not a code change.
"""

from __future__ import annotations

import os

from web3 import HTTPProvider, Web3

__all__ = ["TOKEN_ENV", "http_web3"]

#: The RPC's bearer token: required by ``voucher-chain node`` when set, sent by every client.
TOKEN_ENV = "VOUCHER_CHAIN_RPC_TOKEN"


def http_web3(url: str, token: str | None = None, *, timeout: float = 60) -> Web3:
    """A web3 on ``url``; every request carries ``Authorization: Bearer <token>`` when there is
    a token (``token``, else ``$VOUCHER_CHAIN_RPC_TOKEN``). The token is never logged: web3
    logs requests by method, not by header."""
    token = token or os.environ.get(TOKEN_ENV) or None
    kwargs: dict[str, object] = {"timeout": timeout}
    if token is not None:
        kwargs["headers"] = {"Authorization": f"Bearer {token}"}
    return Web3(HTTPProvider(url, request_kwargs=kwargs))

"""The JSON-RPC HTTP server (and WebSocket upgrades, see :mod:`.ws`): the standard library's
``ThreadingHTTPServer``.

Why not uvicorn: the chain is one serialised resource (py-evm under a lock), so an event loop
buys no throughput, and a thread per connection with HTTP/1.1 keep-alive is what JSON-RPC
clients (web3.py's session, ethers' fetch) use well. No extra dependency, and the server can be
started and stopped in-process by tests on port 0.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from voucher_chain.node.core import Node
from voucher_chain.node.errors import PARSE_ERROR, UNAUTHORIZED
from voucher_chain.node.rpc import Dispatcher, handle_request
from voucher_chain.node.ws import serve_websocket

__all__ = ["RpcServer"]

log = logging.getLogger("voucher_chain.node.http")
MAX_BODY = 4 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body go out in two writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _authorised(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def do_GET(self) -> None:
        """A WebSocket upgrade (JSON-RPC and eth_subscribe on the same port)."""
        key = self.headers.get("Sec-WebSocket-Key")
        if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self._reply(405, {"error": "POST JSON-RPC requests, or upgrade to a WebSocket"})
            return
        if not self._authorised():
            self._reply(401, {"error": "missing or wrong bearer token"})
            return
        serve_websocket(self.server.dispatcher, key, self)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(
                413,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32600, "message": f"request body over {MAX_BODY} bytes"},
                },
            )
            self.close_connection = True
            return
        body = self.rfile.read(length)
        if not self._authorised():
            self._reply(
                401,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": UNAUTHORIZED, "message": "missing or wrong bearer token"},
                },
            )
            return
        try:
            request = json.loads(body)
        except ValueError:
            self._reply(
                200,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": PARSE_ERROR, "message": "parse error"},
                },
            )
            return
        dispatcher = self.server.dispatcher
        if isinstance(request, list):
            answers = [a for a in (handle_request(dispatcher, r) for r in request) if a]
            self._reply(200, answers)
        else:
            self._reply(200, handle_request(dispatcher, request))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once; the default backlog (5) resets them
    dispatcher: Dispatcher
    token: str | None


class RpcServer:
    """Serves ``node`` over HTTP on ``host:port`` (port 0 picks a free one); ``token`` (default:
    the node's ``read_token``) is then required as a bearer token on every request."""

    def __init__(
        self, node: Node, host: str = "127.0.0.1", port: int = 8545, *, token: str | None = None
    ) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.dispatcher = Dispatcher(node)
        self._server.token = token if token is not None else node.config.read_token
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> RpcServer:
        """Serves in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="voucher-chain-rpc", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

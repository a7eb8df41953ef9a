"""The JSON-RPC HTTP server (and WebSocket upgrades, see :mod:`.ws`): a small HTTP/1.1 server on
the standard library's ``socketserver``, one thread per connection.

Why not uvicorn: the chain is one serialised resource (py-evm under a lock), so an event loop
buys no throughput, and a thread per connection with HTTP/1.1 keep-alive is what JSON-RPC
clients (web3.py's session, ethers' fetch) use well. No extra dependency, and the server can be
started and stopped in-process by tests on port 0.

Why not ``http.server.BaseHTTPRequestHandler``: profiled under receipt polling, two thirds of the
node's time per request went to it — header parsing through the ``email`` package, a date
formatted per response, the response written in pieces — and one sixth to the JSON-RPC call.
This handler parses the request line and headers by hand and writes each response in one
``send``. It speaks what JSON-RPC clients send: ``POST`` with ``Content-Length`` (``Expect:
100-continue`` honoured), ``OPTIONS`` for browsers' CORS preflight, and ``GET`` with ``Upgrade:
websocket``; keep-alive for HTTP/1.1 (and HTTP/1.0 that asks for it).
"""

from __future__ import annotations

import email.utils
import hmac
import json
import logging
import socketserver
import threading
import time
from typing import Any

from voucher_chain.node.core import Node
from voucher_chain.node.errors import PARSE_ERROR, UNAUTHORIZED
from voucher_chain.node.rpc import Dispatcher, handle_request
from voucher_chain.node.ws import serve_websocket

__all__ = ["RpcServer"]

log = logging.getLogger("voucher_chain.node.http")
MAX_BODY = 4 * 1024 * 1024
_MAX_LINE = 65_536
_MAX_HEADERS = 100
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
}


class _Date:
    """The ``Date`` header, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def header(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._value = email.utils.formatdate(now, usegmt=True).encode()
            self._second = now
        return self._value


_date = _Date()


def _rpc_error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(socketserver.StreamRequestHandler):
    """One connection: requests one after the other until the client or an error closes it."""

    disable_nagle_algorithm = True
    server: _Server

    def handle(self) -> None:
        try:
            while self._one_request():
                pass
        except (ConnectionError, TimeoutError):
            pass

    def _one_request(self) -> bool:
        """Serves one request; whether the connection stays open."""
        line = self.rfile.readline(_MAX_LINE + 1)
        if not line:
            return False
        if line in (b"\r\n", b"\n"):  # tolerated between requests (RFC 9112 §2.2)
            return True
        try:
            method, version, headers = self._head(line)
        except _BadRequest as exc:
            log.debug("%s: %s", self.client_address, exc)
            self._send(exc.status, {"error": str(exc)}, keep_alive=False)
            return False
        connection = headers.get(b"connection", b"").lower()
        if version == b"HTTP/1.1":
            keep_alive = connection != b"close"
        else:
            keep_alive = connection == b"keep-alive"
        if method == b"POST":
            return self._post(headers, keep_alive)
        if method == b"OPTIONS":
            self._write(
                204,
                b"Access-Control-Allow-Methods: POST, OPTIONS\r\n"
                b"Access-Control-Allow-Headers: Content-Type, Authorization\r\n",
                b"",
                keep_alive,
            )
            return keep_alive
        if method == b"GET" and headers.get(b"upgrade", b"").lower() == b"websocket":
            key = headers.get(b"sec-websocket-key")
            if key:
                if not self._authorised(headers):
                    self._send(401, {"error": "missing or wrong bearer token"}, keep_alive=False)
                    return False
                serve_websocket(self.server.dispatcher, key.decode("latin-1"), self)
                return False
        self._send(405, {"error": "POST JSON-RPC requests, or upgrade to a WebSocket"}, keep_alive)
        return keep_alive

    def _head(self, line: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]]:
        if len(line) > _MAX_LINE:
            raise _BadRequest(431, "request line too long")
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise _BadRequest(400, "bad request line")
        headers: dict[bytes, bytes] = {}
        for _ in range(_MAX_HEADERS + 1):
            field = self.rfile.readline(_MAX_LINE + 1)
            if field in (b"\r\n", b"\n", b""):
                return parts[0], parts[2], headers
            if len(field) > _MAX_LINE:
                raise _BadRequest(431, "header line too long")
            name, colon, value = field.partition(b":")
            if not colon:
                raise _BadRequest(400, "bad header line")
            headers[name.strip().lower()] = value.strip()
        raise _BadRequest(431, "too many headers")

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        token = self.server.token
        if token is None:
            return True
        given = headers.get(b"authorization", b"")
        return hmac.compare_digest(given, f"Bearer {token}".encode())

    def _post(self, headers: dict[bytes, bytes], keep_alive: bool) -> bool:
        if headers.get(b"transfer-encoding", b"").lower() not in (b"", b"identity"):
            self._send(411, _rpc_error(-32600, "send the body with a Content-Length"), False)
            return False
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._send(413, _rpc_error(-32600, f"request body over {MAX_BODY} bytes"), False)
            return False
        if headers.get(b"expect", b"").lower() == b"100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self.rfile.read(length)
        if len(body) < length:
            return False
        if not self._authorised(headers):
            self._send(401, _rpc_error(UNAUTHORIZED, "missing or wrong bearer token"), keep_alive)
            return keep_alive
        try:
            request = json.loads(body)
        except ValueError:
            self._send(200, _rpc_error(PARSE_ERROR, "parse error"), keep_alive)
            return keep_alive
        dispatcher = self.server.dispatcher
        if isinstance(request, list):
            answers = [a for a in (handle_request(dispatcher, r) for r in request) if a]
            self._send(200, answers, keep_alive)
        else:
            self._send(200, handle_request(dispatcher, request), keep_alive)
        return keep_alive

    def _send(self, status: int, body: Any, keep_alive: bool) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self._write(status, b"Content-Type: application/json\r\n", data, keep_alive)

    def _write(self, status: int, extra_headers: bytes, data: bytes, keep_alive: bool) -> None:
        head = b"HTTP/1.1 %d %s\r\nDate: %s\r\n%sContent-Length: %d\r\n" % (
            status,
            _REASONS[status].encode(),
            _date.header(),
            extra_headers,
            len(data),
        )
        head += b"Access-Control-Allow-Origin: *\r\n"
        if not keep_alive:
            head += b"Connection: close\r\n"
        self.wfile.write(head + b"\r\n" + data)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
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

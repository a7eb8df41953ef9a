"""JSON-RPC over WebSocket (RFC 6455, on the HTTP server's port) with ``eth_subscribe``.

Every JSON-RPC method works over the socket; ``eth_subscribe("newHeads")`` and
``eth_subscribe("logs", filter)`` push one notification per new block (and per matching log).
The producer only enqueues block numbers; each connection's own thread builds and sends the
notifications, so a slow client never slows block production.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import queue
import struct
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from voucher_chain.node.errors import INVALID_PARAMS, RpcError
from voucher_chain.node.rpc import Dispatcher, handle_request

__all__ = ["accept_key", "serve_websocket"]

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_MESSAGE = 4 * 1024 * 1024
_ids = itertools.count(1)


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()


class _Closed(Exception):
    pass


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if data is None or len(data) < n:
        raise _Closed
    return data


def _read_frame(stream: BinaryIO) -> tuple[int, bytes]:
    first, second = _read_exact(stream, 2)
    opcode = first & 0x0F
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", _read_exact(stream, 2))[0]
    elif length == 127:
        length = struct.unpack(">Q", _read_exact(stream, 8))[0]
    if length > _MAX_MESSAGE:
        raise _Closed
    mask = _read_exact(stream, 4) if second & 0x80 else b""
    payload = _read_exact(stream, length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload


def _frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack(">H", n)
    else:
        head += bytes([127]) + struct.pack(">Q", n)
    return head + payload


class _Connection:
    def __init__(self, dispatcher: Dispatcher, rfile: BinaryIO, wfile: BinaryIO) -> None:
        self.dispatcher = dispatcher
        self.rfile = rfile
        self.wfile = wfile
        self._write_lock = threading.Lock()
        self._subscriptions: dict[str, tuple[str, dict[str, Any]]] = {}
        self._blocks: queue.Queue[int | None] = queue.Queue()
        self._listener: Callable[[int], None] = self._blocks.put

    def send(self, message: Any, opcode: int = 0x1) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode()
        with self._write_lock:
            self.wfile.write(_frame(opcode, data))
            self.wfile.flush()

    def run(self) -> None:
        node = self.dispatcher.node
        node.block_listeners.append(self._listener)
        notifier = threading.Thread(target=self._notify, name="voucher-chain-ws", daemon=True)
        notifier.start()
        try:
            while True:
                opcode, payload = _read_frame(self.rfile)
                if opcode == 0x8:
                    self.send(payload[:2], opcode=0x8)
                    return
                if opcode == 0x9:
                    self.send(payload, opcode=0xA)
                elif opcode in (0x1, 0x2):
                    self._on_message(payload)
        except (_Closed, OSError):
            return
        finally:
            if self._listener in node.block_listeners:
                node.block_listeners.remove(self._listener)
            self._blocks.put(None)

    def _on_message(self, payload: bytes) -> None:
        try:
            request = json.loads(payload)
        except ValueError:
            self.send(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
            )
            return
        if isinstance(request, dict) and request.get("method") in (
            "eth_subscribe",
            "eth_unsubscribe",
        ):
            try:
                result = self._subscription(request["method"], request.get("params") or [])
            except RpcError as exc:
                self.send({"jsonrpc": "2.0", "id": request.get("id"), "error": exc.as_json()})
            else:
                self.send({"jsonrpc": "2.0", "id": request.get("id"), "result": result})
            return
        if isinstance(request, list):
            self.send([a for a in (handle_request(self.dispatcher, r) for r in request) if a])
        else:
            answer = handle_request(self.dispatcher, request)
            if answer is not None:
                self.send(answer)

    def _subscription(self, method: str, params: list[Any]) -> Any:
        if method == "eth_unsubscribe":
            return self._subscriptions.pop(str(params[0]) if params else "", None) is not None
        kind = params[0] if params else None
        if kind not in ("newHeads", "logs"):
            raise RpcError(INVALID_PARAMS, f"unsupported subscription {kind!r} (newHeads, logs)")
        query = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        sub_id = hex(next(_ids) << 64 | threading.get_ident() & 0xFFFFFFFF)
        self._subscriptions[sub_id] = (str(kind), dict(query))
        return sub_id

    def _notify(self) -> None:
        while True:
            number = self._blocks.get()
            if number is None:
                return
            for sub_id, (kind, query) in list(self._subscriptions.items()):
                try:
                    if kind == "newHeads":
                        head = self.dispatcher.call("eth_getBlockByNumber", [hex(number), False])
                        head.pop("transactions", None)
                        results = [head]
                    else:
                        bounds = {"fromBlock": hex(number), "toBlock": hex(number)}
                        results = self.dispatcher.call("eth_getLogs", [{**query, **bounds}])
                    for result in results:
                        self.send(
                            {
                                "jsonrpc": "2.0",
                                "method": "eth_subscription",
                                "params": {"subscription": sub_id, "result": result},
                            }
                        )
                except (RpcError, OSError):
                    return


def serve_websocket(dispatcher: Dispatcher, key: str, handler: Any) -> None:
    """Completes the upgrade of an HTTP connection (``handler`` has ``rfile`` and ``wfile``)
    whose client sent ``Sec-WebSocket-Key: key``, and serves it until it closes."""
    handler.wfile.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(key).encode() + b"\r\n\r\n"
    )
    handler.wfile.flush()
    _Connection(dispatcher, handler.rfile, handler.wfile).run()

"""The test/benchmark server (api/live.py) answers without a Nagle / delayed-ACK stall.

Its listening socket once lacked ``IPPROTO_TCP``; asyncio then skipped ``TCP_NODELAY`` on every
accepted connection (``_set_nodelay`` checks ``sock.proto``), and h11's two writes (headers, then
body) waited for the client's delayed ACK: a fixed ~44 ms per request. The kernel's delayed ACK
is at least 40 ms, so a median far below that means no stall.
"""

from __future__ import annotations

import socket
import statistics
import time

from fastapi import FastAPI

from api.live import LiveServer

BODY = b'{"ok":true}'


def test_small_responses_are_not_held_back_by_nagle() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    with LiveServer(app) as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            samples = []
            for _ in range(21):
                start = time.perf_counter()
                conn.sendall(b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
                received = b""
                while not received.endswith(BODY):
                    chunk = conn.recv(65536)
                    assert chunk, "the server closed the connection"
                    received += chunk
                samples.append(time.perf_counter() - start)
    assert received.startswith(b"HTTP/1.1 200")
    assert statistics.median(samples) < 0.020, samples

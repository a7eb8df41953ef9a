"""A stand-in for a Besu node's PERM API over real HTTP (Besu cannot run on this machine): keeps
an accounts allowlist, records every call, and answers as Besu documents it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class PermStub:
    def __init__(self, allowlist: list[str] | None = None, *, perm_enabled: bool = True) -> None:
        self.allowlist = [a.lower() for a in allowlist or []]
        self.perm_enabled = perm_enabled
        self.calls: list[tuple[str, list[Any]]] = []

    def answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        self.calls.append((method, params))
        if not self.perm_enabled or not method.startswith("perm_"):
            return {"error": {"code": -32601, "message": "Method not enabled"}}
        if method == "perm_getAccountsAllowlist":
            return {"result": list(self.allowlist)}
        if method == "perm_addAccountsToAllowlist":
            [accounts] = params
            if any(a in self.allowlist for a in accounts):
                return {"error": {"code": -32000, "message": "Account exists in allowlist"}}
            self.allowlist.extend(accounts)
            return {"result": "Success"}
        if method == "perm_removeAccountsFromAllowlist":
            [accounts] = params
            if any(a not in self.allowlist for a in accounts):
                return {"error": {"code": -32000, "message": "Account is absent from allowlist"}}
            self.allowlist = [a for a in self.allowlist if a not in accounts]
            return {"result": "Success"}
        if method == "perm_reloadPermissionsFromFile":
            return {"result": "Success"}
        return {"error": {"code": -32601, "message": "Method not found"}}


@contextmanager
def serve(stub: PermStub) -> Iterator[str]:
    """``stub`` behind a loopback HTTP JSON-RPC server; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps(
                {"jsonrpc": "2.0", "id": request["id"]}
                | stub.answer(request["method"], request["params"])
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

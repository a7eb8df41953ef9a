"""The HTTP layer itself: keep-alive, CORS preflight, batches, limits and malformed requests."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voucher_chain.node import Node, NodeConfig, RpcServer
from voucher_chain.node.http import MAX_BODY


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RpcServer]:
    path: Path = tmp_path_factory.mktemp("http-node")
    with Node(NodeConfig(data_dir=path, dev=True, auto_seal=False)) as node:
        rpc = RpcServer(node, port=0).start()
        yield rpc
        rpc.stop()


def _call(conn: http.client.HTTPConnection, body: Any) -> tuple[int, Any]:
    conn.request("POST", "/", json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def _raw(server: RpcServer, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_keep_alive_serves_many_requests_on_one_connection(server: RpcServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for i in range(20):
        status, answer = _call(conn, {"jsonrpc": "2.0", "id": i, "method": "eth_chainId"})
        assert status == 200
        assert answer == {"jsonrpc": "2.0", "id": i, "result": hex(20261126)}
    conn.close()


def test_batch_and_notification(server: RpcServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    status, answers = _call(
        conn,
        [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
            {"jsonrpc": "2.0", "method": "eth_chainId"},  # a notification: no answer
            {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        ],
    )
    assert status == 200
    assert [a["id"] for a in answers] == [1, 2]
    assert answers[1]["error"]["code"] == -32601


def test_parse_error_and_cors_preflight(server: RpcServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("POST", "/", b"{not json", {"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 200
    assert json.loads(response.read())["error"]["code"] == -32700
    conn.request("OPTIONS", "/")
    response = conn.getresponse()
    response.read()
    assert response.status == 204
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    assert "Authorization" in (response.getheader("Access-Control-Allow-Headers") or "")


def test_oversized_body_is_refused_unread_and_closed(server: RpcServer) -> None:
    head = f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n".encode()
    answer = _raw(server, head)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in answer


def test_get_without_upgrade_and_bad_request_line(server: RpcServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/")
    response = conn.getresponse()
    response.read()
    assert response.status == 405
    assert _raw(server, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_expect_continue_and_http_1_0(server: RpcServer) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode()
    answer = _raw(
        server,
        b"POST / HTTP/1.0\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n%s"
        % (len(body), body),
    )
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert b"Connection: close" in answer  # HTTP/1.0 without keep-alive: closed after it
    assert answer.endswith(b'"result":"%s"}' % hex(20261126).encode())

"""The node as its own process: load, kill -9, restart — nothing whose receipt came back is
lost, the head is intact and `verify` passes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import HTTPProvider, Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

from tests.node.conftest import signed_self_transfer
from voucher_chain.contracts import OrgKind, Protocol, transact

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voucher_chain.cli",
            "node",
            "--dev",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--block-interval-ms",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        pytest.fail("the node exited before announcing itself")
    return process, json.loads(line)


def _verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "voucher_chain.cli",
            "node",
            "verify",
            "--replay",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sender(
    url: str,
    account: LocalAccount,
    chain_id: int,
    seen: list[tuple[str, str, int]],
    stop: threading.Event,
) -> None:
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 5}))
    try:
        nonce = int(w3.eth.get_transaction_count(account.address, "pending"))
        while not stop.is_set():
            raw = signed_self_transfer(account, chain_id, nonce)
            tx_hash = w3.eth.send_raw_transaction(raw)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.02)
            seen.append(
                (tx_hash.to_0x_hex(), receipt["blockHash"].to_0x_hex(), receipt["blockNumber"])
            )
            nonce += 1
    except Exception:
        return  # the node was killed


def test_kill_minus_nine_loses_no_receipted_transaction(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    port = _free_port()
    process, info = _start(data_dir, port)
    try:
        url = info["url"]
        governor = Account.from_key(_dev_key(data_dir))
        w3 = Web3(HTTPProvider(url))
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(governor), layer=0)
        protocol = Protocol.at(w3, info["protocol"])
        senders = [governor]
        for i in range(3):
            account = Account.create()
            transact(
                protocol.registry.functions.registerOrganisation(
                    int(OrgKind.ISSUER),
                    110000,
                    Web3.keccak(text=f"kill-{i}"),
                    10,
                    6510,
                    b"\x00" * 32,
                    account.address,
                ),
                governor.address,
            )
            senders.append(account)
        seen: list[tuple[str, str, int]] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_sender, args=(url, a, info["chain_id"], seen, stop))
            for a in senders
        ]
        for t in threads:
            t.start()
        time.sleep(3)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        stop.set()
        for t in threads:
            t.join(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert len(seen) > 20
    receipted = list(seen)

    process, info = _start(data_dir, port)
    try:
        w3 = Web3(HTTPProvider(info["url"]))
        assert info["head"] >= max(number for _, _, number in receipted)
        for tx_hash, block_hash, number in receipted:
            receipt = w3.eth.get_transaction_receipt(HexStr(tx_hash))
            assert receipt["blockHash"].to_0x_hex() == block_hash
            assert receipt["blockNumber"] == number
        assert w3.eth.get_block(info["head"])["number"] == info["head"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    result = _verify(data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok:")


def _dev_key(data_dir: Path) -> bytes:
    from voucher_chain.node.keys import decrypt_key, passphrase_from_env

    return decrypt_key((data_dir / "authority.key").read_text(), passphrase_from_env(dev=True))

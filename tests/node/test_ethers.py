"""ethers.js (npm ``ethers``, pinned in tests/node/ethers/package.json) against the node over
HTTP: deploy, call, transact, decode a custom error and read logs, with no special-casing.

Needs Node.js and ``npm ci`` in tests/node/ethers (skipped otherwise).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.node.conftest import DevChain
from voucher_chain.contracts import load_artifact

HERE = Path(__file__).parent / "ethers"

pytestmark = pytest.mark.integration


@pytest.mark.skipif(
    shutil.which("node") is None or not (HERE / "node_modules" / "ethers").is_dir(),
    reason="needs node and `npm ci` in tests/node/ethers",
)
def test_ethers_deploys_calls_transacts_decodes_and_reads_logs(
    dev_chain: DevChain, tmp_path: Path
) -> None:
    artifact = load_artifact("ParticipantRegistry")
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"abi": artifact.abi, "bytecode": artifact.bytecode}))
    result = subprocess.run(
        [
            "node",
            str(HERE / "drive.mjs"),
            dev_chain.server.url,
            "0x" + dev_chain.node.authority_key.hex(),
            str(path),
            dev_chain.protocol.forwarder.address,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["chainId"] == str(dev_chain.node.chain_id)
    assert seen["organisations"] == "1"
    assert seen["status"] == 1
    assert seen["customError"]["name"] == "RegistryDuplicateCreditCode"
    assert seen["customError"]["args"][1] == "2"  # the existing organisation's id
    assert seen["staticCallError"] == seen["customError"]
    assert [log["orgId"] for log in seen["logs"]] == ["1", "2"]
    assert seen["logs"][1]["tx"] == seen["txHash"]

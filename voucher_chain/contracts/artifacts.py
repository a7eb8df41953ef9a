"""Loading the committed build artifacts of the Solidity contracts (``contracts/build/``).

Running and testing the Python side never needs node or solc: the artifacts are in the repository.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from voucher_chain.errors import ArtifactError

__all__ = ["PROTOCOL_CONTRACTS", "Artifact", "artifacts_dir", "load_artifact"]

#: The contracts of one protocol deployment, in deployment order.
PROTOCOL_CONTRACTS = (
    "VoucherForwarder",
    "ParticipantRegistry",
    "SettlementToken",
    "VoucherToken",
    "ServiceCatalogue",
    "ProgramManager",
    "OrderBook",
)


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: its ABI and creation/runtime bytecode (``0x`` hex)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str


def artifacts_dir() -> Path:
    """``$VOUCHER_CHAIN_ARTIFACTS`` if set, else ``contracts/build`` of this checkout."""
    override = os.environ.get("VOUCHER_CHAIN_ARTIFACTS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "contracts" / "build"


@cache
def load_artifact(name: str) -> Artifact:
    """The artifact of contract ``name``; :class:`ArtifactError` if it is missing or malformed."""
    path = artifacts_dir() / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Artifact(
            name=raw["contractName"],
            abi=raw["abi"],
            bytecode=raw["bytecode"],
            deployed_bytecode=raw["deployedBytecode"],
        )
    except FileNotFoundError:
        raise ArtifactError(
            f"no artifact for {name} at {path}: run `make contracts` to build contracts/build"
        ) from None
    except (KeyError, ValueError) as exc:
        raise ArtifactError(f"artifact {path} is malformed: {exc}") from exc

"""A Besu QBFT genesis for the protocol: the validators in ``extraData``, free gas, Cancun rules.

The protocol's contracts are compiled for Prague (``contracts/build``) but use nothing newer
than Cancun (``mcopy``, transient storage), so a Cancun network runs them unchanged; enabling
Prague on a private QBFT network also needs the Prague system contracts in ``alloc`` (see
docs/deploy/besu.md). Besu cannot run on the machine this was written on: the output is checked
here only against the QBFT extra-data layout (``besu rlp decode`` re-checks it on a Besu host).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp
from web3 import Web3

__all__ = ["DEFAULT_GAS_LIMIT", "qbft_extra_data", "qbft_genesis"]

#: Gas per block: as the embedded node's (the validators, not a fee market, size blocks).
DEFAULT_GAS_LIMIT = 1_000_000_000
#: QBFT's genesis mixHash ("ctical byzantine fault tolerance"), required by Besu.
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
_PRE_MERGE_BLOCKS = (
    "homesteadBlock",
    "eip150Block",
    "eip155Block",
    "eip158Block",
    "byzantiumBlock",
    "constantinopleBlock",
    "petersburgBlock",
    "istanbulBlock",
    "muirGlacierBlock",
    "berlinBlock",
    "londonBlock",
)


def qbft_extra_data(validators: Sequence[str]) -> str:
    """QBFT genesis ``extraData``: RLP([32-byte vanity, [validators], no vote, round 0, no
    seals]), as ``besu rlp encode --type=QBFT_EXTRA_DATA`` writes it."""
    if len(validators) < 4:
        raise ValueError("a QBFT network tolerating one faulty validator needs at least 4")
    addresses = [bytes.fromhex(Web3.to_checksum_address(v)[2:]) for v in validators]
    if len(set(addresses)) != len(addresses):
        raise ValueError("duplicate validator address")
    encoded: bytes = rlp.encode([b"\x00" * 32, addresses, [], b"", []])
    return "0x" + encoded.hex()


def qbft_genesis(
    validators: Sequence[str],
    *,
    chain_id: int,
    block_period_seconds: int = 1,
    request_timeout_seconds: int = 4,
    gas_limit: int = DEFAULT_GAS_LIMIT,
) -> dict[str, Any]:
    """The genesis document (a JSON object) of a free-gas QBFT network of ``validators``."""
    config: dict[str, Any] = {"chainId": chain_id}
    config.update(dict.fromkeys(_PRE_MERGE_BLOCKS, 0))
    config.update(
        shanghaiTime=0,
        cancunTime=0,
        zeroBaseFee=True,
        contractSizeLimit=2_147_483_647,
        qbft={
            "blockperiodseconds": block_period_seconds,
            "epochlength": 30_000,
            "requesttimeoutseconds": request_timeout_seconds,
        },
    )
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "extraData": qbft_extra_data(validators),
        "alloc": {},
    }

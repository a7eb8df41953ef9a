"""Decoding what the chain recorded: protocol event logs (by contract address and topic) and
the calldata of transactions sent to the protocol (for failed transactions).

The policy for logs: a log from a protocol contract whose topic no ABI of that contract knows,
or whose data does not decode, and any log from an address outside the deployment, is returned
as :class:`Undecodable` with the reason; the indexer stores it raw and counts it (never drops it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data
from web3.contract import Contract
from web3.utils import event_abi_to_log_topic

from voucher_chain.contracts import Protocol
from voucher_chain.contracts.artifacts import PROTOCOL_CONTRACTS, load_artifact

__all__ = ["Decoded", "LogDecoder", "Undecodable", "to_json", "from_json"]


@dataclass(frozen=True)
class Decoded:
    contract: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Undecodable:
    reason: str


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def to_json(args: Mapping[str, Any]) -> str:
    """Event/call arguments as canonical JSON (bytes as 0x hex; ints stay ints)."""
    return json.dumps(_plain(args), sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    assert isinstance(value, dict)
    return value


class LogDecoder:
    """Decodes the logs and calldata of one deployment."""

    def __init__(self, w3: Web3, addresses: Mapping[str, str]) -> None:
        self._w3 = w3
        self._names = {to_checksum_address(a): n for n, a in addresses.items()}
        self._events: dict[tuple[str, bytes], dict[str, Any]] = {}
        self._contracts: dict[str, Contract] = {}
        for name, address in addresses.items():
            if name not in PROTOCOL_CONTRACTS:
                continue
            abi = load_artifact(name).abi
            checksum = to_checksum_address(address)
            self._contracts[checksum] = w3.eth.contract(address=checksum, abi=abi)
            for item in abi:
                if item["type"] == "event" and not item.get("anonymous"):
                    topic = bytes(event_abi_to_log_topic(item))  # type: ignore[arg-type]
                    self._events[(checksum, topic)] = item

    @classmethod
    def for_protocol(cls, protocol: Protocol) -> LogDecoder:
        return cls(protocol.w3, protocol.addresses())

    def contract_name(self, address: str | None) -> str | None:
        return None if address is None else self._names.get(to_checksum_address(address))

    def decode_log(self, log: Mapping[str, Any]) -> Decoded | Undecodable:
        address = to_checksum_address(log["address"])
        contract = self._names.get(address)
        if contract is None:
            return Undecodable(f"log from {address}, which is not a protocol contract")
        topics = log.get("topics") or []
        if not topics:
            return Undecodable(f"anonymous log from {contract}")
        abi = self._events.get((address, bytes(HexBytes(topics[0]))))
        if abi is None:
            return Undecodable(
                f"no event of {contract} has topic {HexBytes(topics[0]).to_0x_hex()}"
            )
        try:
            data = get_event_data(self._w3.codec, abi, log)
        except Exception as exc:  # eth-abi raises several unrelated types on bad data
            return Undecodable(f"{contract}.{abi['name']} did not decode: {exc}"[:200])
        return Decoded(contract=contract, name=str(abi["name"]), args=dict(data["args"]))

    def decode_call(self, to: str | None, data: bytes) -> tuple[str | None, str | None, str]:
        """(contract, function, args as JSON) of a call; unknown parts are None / ``{}``."""
        contract = self.contract_name(to)
        if contract is None or to is None:
            return None, None, "{}"
        try:
            fn, args = self._contracts[to_checksum_address(to)].decode_function_input(data)
        except Exception:
            return contract, None, "{}"
        return contract, str(fn.fn_name), to_json(args)

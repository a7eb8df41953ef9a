"""Turning revert data into :class:`~voucher_chain.errors.ContractRevert`.

Under eth-tester a revert arrives as ``eth_tester.exceptions.TransactionFailed`` whose message holds
the raw revert data as a Python bytes literal; from a JSON-RPC node web3 raises
``ContractCustomError``/``ContractLogicError`` with the data as hex. Both are decoded here, by
selector, against the errors of every protocol ABI.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from voucher_chain.contracts.artifacts import PROTOCOL_CONTRACTS, load_artifact
from voucher_chain.contracts.messages import describe
from voucher_chain.errors import ContractRevert

__all__ = ["ErrorDecoder", "protocol_error_decoder", "revert_data_of"]

_TESTER_REVERT = re.compile(r"execution reverted: (b['\"].*['\"])\s*$", re.DOTALL)


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]


def _abi_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


class ErrorDecoder:
    """Decodes revert data by selector against a set of ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self._by_selector: dict[bytes, _ErrorAbi] = {}
        builtin = [
            {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
            {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
        ]
        for abi in [builtin, *abis]:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = tuple(_abi_type(p) for p in item["inputs"])
                names = tuple(p["name"] or f"arg{i}" for i, p in enumerate(item["inputs"]))
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                self._by_selector[selector] = _ErrorAbi(item["name"], names, types)

    def error_names(self) -> set[str]:
        """Every error name this decoder knows."""
        return {e.name for e in self._by_selector.values()}

    def decode(self, data: bytes) -> ContractRevert:
        """A :class:`ContractRevert` for ``data`` (``UnknownError`` when no ABI explains it)."""
        selector = bytes(data[:4])
        err = self._by_selector.get(selector)
        if err is not None:
            try:
                values = abi_decode(list(err.types), bytes(data[4:]))
            except DecodingError:
                err = None
            else:
                args = {
                    n: _plain(v, t) for n, t, v in zip(err.names, err.types, values, strict=True)
                }
                return ContractRevert(
                    describe(err.name, args),
                    name=err.name,
                    args=args,
                    selector="0x" + selector.hex(),
                    data=bytes(data),
                )
        args = {"data": "0x" + bytes(data).hex()}
        return ContractRevert(
            describe("UnknownError", args),
            name="UnknownError",
            args=args,
            selector="0x" + selector.hex(),
            data=bytes(data),
        )


def _plain(value: Any, abi_type: str) -> Any:
    """ABI values as plain JSON-friendly Python: addresses checksummed, bytes as ``0x`` hex,
    tuples and arrays as lists."""
    if abi_type == "address" and isinstance(value, str):
        return Web3.to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        inner = abi_type[: abi_type.rindex("[")] if abi_type.endswith("]") else ""
        return [_plain(v, inner) for v in value]
    return value


@cache
def protocol_error_decoder() -> ErrorDecoder:
    """A decoder for every error of every protocol contract (OpenZeppelin's included)."""
    return ErrorDecoder(load_artifact(name).abi for name in PROTOCOL_CONTRACTS)


def revert_data_of(exc: BaseException) -> bytes | None:
    """The raw revert data carried by an exception from eth-tester or web3, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes(HexBytes(data))
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, dict):  # web3 RPC error body: {"code":…, "message":…, "data": "0x…"}
        inner = data.get("data")
        if isinstance(inner, str) and inner.startswith("0x"):
            return bytes(HexBytes(inner))
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, str):
            match = _TESTER_REVERT.search(arg)
            if match:
                literal = ast.literal_eval(match.group(1))
                if isinstance(literal, bytes):
                    return literal
    return None

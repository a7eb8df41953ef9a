"""Deploying the whole protocol, wired together, in one call, and binding to a deployment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from voucher_chain.contracts.artifacts import load_artifact
from voucher_chain.contracts.tx import transact
from voucher_chain.errors import TransactionFailed

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_VOUCHER_URI",
    "DEV_GOVERNOR_CODE",
    "Protocol",
    "deploy_protocol",
]

#: The service categories of the source document, ids 0–6 (see :class:`~.types.Category`).
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "测试检测 Testing and inspection",
    "合作研发 Cooperative R&D",
    "委托开发 Commissioned development",
    "研发设计 R&D design",
    "技术解决方案 Technical solutions",
    "技术咨询 Technical consulting",
    "检索查新 Novelty search",
)

DEFAULT_VOUCHER_URI = "voucherchain://program/{id}.json"

#: The governor's credit code on development chains (the sandbox and the node's --dev mode).
DEV_GOVERNOR_CODE = "MOST-GOVERNOR"


@dataclass(frozen=True)
class Protocol:
    """One deployment of the protocol: a web3 contract object per contract."""

    w3: Web3
    forwarder: Contract
    registry: Contract
    settlement: Contract
    vouchers: Contract
    catalogue: Contract
    programs: Contract
    orders: Contract

    def addresses(self) -> dict[str, ChecksumAddress]:
        """Contract name → address, e.g. to store or hand to another process."""
        return {name: getattr(self, attr).address for name, attr in _ATTRS.items()}

    @classmethod
    def at(cls, w3: Web3, addresses: Mapping[str, str]) -> Protocol:
        """Binds to an existing deployment given :meth:`addresses`' mapping."""
        return cls(
            w3=w3,
            **{
                attr: _bind(w3, name, Web3.to_checksum_address(addresses[name]))
                for name, attr in _ATTRS.items()
            },
        )


_ATTRS = {
    "VoucherForwarder": "forwarder",
    "ParticipantRegistry": "registry",
    "SettlementToken": "settlement",
    "VoucherToken": "vouchers",
    "ServiceCatalogue": "catalogue",
    "ProgramManager": "programs",
    "OrderBook": "orders",
}


def _bind(w3: Web3, name: str, address: ChecksumAddress) -> Contract:
    return w3.eth.contract(address=address, abi=load_artifact(name).abi)


def _deploy(w3: Web3, name: str, sender: ChecksumAddress, *args: object) -> Contract:
    art = load_artifact(name)
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    receipt = transact(factory.constructor(*args), sender)  # type: ignore[arg-type]
    address = receipt["contractAddress"]
    if address is None:
        raise TransactionFailed(f"deploying {name} created no contract")
    return _bind(w3, name, address)


def deploy_protocol(
    w3: Web3,
    governor: str,
    *,
    governor_credit_code_hash: bytes,
    governor_region: int = 110000,
    voucher_uri: str = DEFAULT_VOUCHER_URI,
    categories: Sequence[str] = DEFAULT_CATEGORIES,
) -> Protocol:
    """Deploys every protocol contract from ``governor``'s account and wires them together.

    ``governor`` becomes the first account of organisation 1, the governor; the default
    categories of the source document are defined (ids 0–6).
    """
    gov = Web3.to_checksum_address(governor)
    forwarder = _deploy(w3, "VoucherForwarder", gov)
    fwd = forwarder.address
    registry = _deploy(
        w3, "ParticipantRegistry", gov, fwd, gov, governor_credit_code_hash, governor_region
    )
    reg = registry.address
    settlement = _deploy(w3, "SettlementToken", gov, fwd, reg)
    vouchers = _deploy(w3, "VoucherToken", gov, fwd, reg, voucher_uri)
    catalogue = _deploy(w3, "ServiceCatalogue", gov, fwd, reg)
    programs = _deploy(
        w3,
        "ProgramManager",
        gov,
        fwd,
        reg,
        settlement.address,
        vouchers.address,
        catalogue.address,
    )
    orders = _deploy(
        w3,
        "OrderBook",
        gov,
        fwd,
        reg,
        settlement.address,
        vouchers.address,
        catalogue.address,
        programs.address,
    )
    transact(programs.functions.setOrderBook(orders.address), gov)
    transact(vouchers.functions.setOperators(programs.address, orders.address), gov)
    transact(settlement.functions.setEscrow(programs.address, True), gov)
    transact(settlement.functions.setEscrow(orders.address, True), gov)
    for name in categories:
        transact(catalogue.functions.addCategory(name), gov)
    return Protocol(
        w3=w3,
        forwarder=forwarder,
        registry=registry,
        settlement=settlement,
        vouchers=vouchers,
        catalogue=catalogue,
        programs=programs,
        orders=orders,
    )

"""Typed domain operations for every role, over the deployed protocol.

``VoucherClient(protocol, transact)`` groups them: ``.registry``, ``.money``, ``.catalogue``,
``.programs``, ``.orders``. Every operation takes the acting account first and returns pydantic
models; a contract refusal is raised as :class:`voucher_chain.ContractRevert` with the error's
name, values and a sentence a person can act on. Value-moving operations are idempotent
(see :mod:`voucher_chain.services.idempotency`).
"""

from __future__ import annotations

from voucher_chain.contracts import Protocol
from voucher_chain.services.base import Transact
from voucher_chain.services.catalogue import CatalogueService
from voucher_chain.services.models import (
    Application,
    CategoryInfo,
    DisputeResolution,
    Issuance,
    Order,
    OrderCreate,
    OrderStep,
    Organisation,
    OrganisationCreate,
    Program,
    ProgramBudget,
    ProgramCreate,
    ServiceCreate,
    ServiceListing,
    Settlement,
    TxRef,
    VoucherBalance,
    VoucherMovement,
    request_id_bytes,
)
from voucher_chain.services.money import MoneyService
from voucher_chain.services.orders import OrderService
from voucher_chain.services.programs import ProgramService
from voucher_chain.services.registry import RegistryService

__all__ = [
    "Application",
    "CatalogueService",
    "CategoryInfo",
    "DisputeResolution",
    "Issuance",
    "MoneyService",
    "Order",
    "OrderCreate",
    "OrderStep",
    "OrderService",
    "Organisation",
    "OrganisationCreate",
    "Program",
    "ProgramBudget",
    "ProgramCreate",
    "ProgramService",
    "RegistryService",
    "ServiceCreate",
    "ServiceListing",
    "Settlement",
    "Transact",
    "TxRef",
    "VoucherBalance",
    "VoucherClient",
    "VoucherMovement",
    "request_id_bytes",
]


class VoucherClient:
    """Every domain service over one deployment and one way of sending transactions."""

    def __init__(self, protocol: Protocol, transact: Transact) -> None:
        self.protocol = protocol
        self.registry = RegistryService(protocol, transact)
        self.money = MoneyService(protocol, transact)
        self.catalogue = CatalogueService(protocol, transact)
        self.programs = ProgramService(protocol, transact)
        self.orders = OrderService(protocol, transact)

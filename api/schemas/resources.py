"""Request bodies of the value-moving and supervisory operations."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from voucher_chain.services import Organisation, Settlement

__all__ = [
    "ApplicationCreate",
    "Bytes32",
    "FreezeCreate",
    "FundCreate",
    "IssueCreate",
    "OrderDeliver",
    "OrderDispute",
    "OrderPlace",
    "OrderReject",
    "OrganisationMe",
    "ReasonCreate",
    "RelayCreate",
    "RelayPublic",
    "RelayTemplate",
    "RevokeCreate",
    "SettlementPublic",
]

Bytes32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
Amount = Annotated[int, Field(gt=0, lt=2**128, description="Fen (¥1 = 100 fen).")]
OrgId = Annotated[int, Field(gt=0, lt=2**64)]
Reason = Annotated[int, Field(ge=0, lt=2**16)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationMe(BaseModel):
    organisation: Organisation
    account: str
    settlement_balance: int = Field(description="Settlement tokens held, in fen.")


class FundCreate(_Body):
    amount: Amount


class IssueCreate(_Body):
    enterprise_org: OrgId
    units: Annotated[int, Field(gt=0, lt=2**128)]


class ApplicationCreate(_Body):
    program_id: OrgId
    units: Annotated[int, Field(gt=0, lt=2**128)]


class ReasonCreate(_Body):
    reason_code: Reason = 0


class OrderPlace(_Body):
    service_id: OrgId
    quantity: Annotated[int, Field(ge=1, lt=2**32)] = 1
    program_id: OrgId
    units: Annotated[int, Field(ge=0, lt=2**128)] = Field(
        description="Voucher units to spend (value = units × face value)."
    )
    own_funds: Annotated[int, Field(ge=0, lt=2**128)] = Field(description="Own funds, in fen.")


class OrderReject(_Body):
    reason_code: Reason = 0


class OrderDeliver(_Body):
    deliverable_hash: Bytes32 = Field(
        description="A 32-byte hash of the deliverable (the institution console sends its SHA-256)."
    )


class OrderDispute(_Body):
    reason_hash: Bytes32


class FreezeCreate(_Body):
    reason_code: Reason = 0


class RevokeCreate(_Body):
    program_id: OrgId
    enterprise_org: OrgId
    units: Annotated[int, Field(gt=0, lt=2**128)]
    reason_code: Reason = 0


class RelayCreate(_Body):
    request: dict[str, Any] = Field(
        description="The EIP-712 typed data of an OpenZeppelin ForwardRequest, as signed."
    )
    signature: str = Field(pattern=r"^(0x)?[0-9a-fA-F]{130}$")


class RelayPublic(BaseModel):
    tx_hash: str
    block_number: int
    signer: str
    target: str


class RelayTemplate(BaseModel):
    """The parts of a ForwardRequest the API knows: sign ``{types, domain, primaryType:
    "ForwardRequest", message: {from: account, to, value: 0, gas, nonce, deadline, data}}``."""

    domain: dict[str, Any]
    types: dict[str, Any]
    account: str = Field(description="The caller's account (the request's ``from``).")
    nonce: int = Field(description="The account's next forwarder nonce.")
    chain_time: int = Field(description="The latest block's time; deadlines count from it.")
    contracts: dict[str, str] = Field(description="Target contracts by name.")


class SettlementPublic(Settlement):
    """A payment to an institution, with when it happened (the block's time)."""

    paid_at: int | None = Field(default=None, description="Unix time of the paying block.")

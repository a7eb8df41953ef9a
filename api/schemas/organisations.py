"""Registering organisations and managing their accounts (keys)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.auth import ApiKeyCreated, ApiKeyPublic
from voucher_chain.contracts import OrgKind
from voucher_chain.services import Organisation, TxRef

__all__ = [
    "AccountCreate",
    "AccountPublic",
    "AccountRemoved",
    "AccountRotate",
    "Custody",
    "OrganisationRegister",
    "OrganisationRegistered",
]

Address = Annotated[
    str,
    Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"]),
]
Custody = Literal["custodial", "self"]
_SELF_CUSTODY = (
    "Self-custody: the address of a key the organisation holds itself (it then signs its own "
    "requests and relays them through /relay). Omit it for custody: the API generates the key "
    "and keeps it, encrypted, in its keystore."
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationRegister(_Body):
    """A new organisation with its first account. The governor registers any kind but a
    governor; an issuer registers enterprises, start-up teams and institutions in its region."""

    kind: OrgKind = Field(
        description="1 enterprise, 2 start-up team, 3 institution, 4 issuer, "
        "5 finance, 6 regulator, 7 bank."
    )
    region: Annotated[int, Field(ge=110000, le=999999, description="GB/T 2260 code.")]
    credit_code: str = Field(
        min_length=18,
        max_length=18,
        description="The 18-character unified social credit code (统一社会信用代码).",
        examples=["91310115MA1K4XXXXX"],
    )
    employees: Annotated[int, Field(ge=0, lt=2**32)] = 0
    industry: Annotated[int, Field(ge=0, lt=2**32)] = 0
    affiliation: str | None = Field(
        default=None,
        max_length=200,
        description="Declared affiliation group; related parties cannot trade.",
    )
    account: Address | None = Field(default=None, description=_SELF_CUSTODY)

    @model_validator(mode="after")
    def _registrable(self) -> OrganisationRegister:
        if self.kind in (OrgKind.NONE, OrgKind.GOVERNOR):
            raise ValueError("only organisations other than the governor can be registered")
        holder = self.kind in (OrgKind.ENTERPRISE, OrgKind.STARTUP_TEAM)
        if holder and self.employees == 0:
            raise ValueError("an enterprise or start-up team declares at least one employee")
        return self


class OrganisationRegistered(BaseModel):
    organisation: Organisation
    account: str = Field(description="The first account.")
    custody: Custody
    api_key: ApiKeyCreated | ApiKeyPublic | None = Field(
        default=None,
        description="Custodial only: the new organisation's first credential (a write API key; "
        "it cannot sign a login, the API holds its key). The secret is in this response only — "
        "a repeat with the same Idempotency-Key returns the key without it.",
    )


class AccountCreate(_Body):
    account: Address | None = Field(default=None, description=_SELF_CUSTODY)
    label: str = Field(default="", max_length=100, description="A note kept with a custodial key.")


class AccountRotate(_Body):
    account: Address | None = Field(
        default=None,
        description="The replacing account. " + _SELF_CUSTODY,
    )


class AccountPublic(BaseModel):
    """An account acting for an organisation, and the transaction that made it so."""

    org_id: int
    account: str
    custody: Custody
    replaces: str | None = Field(default=None, description="The account it replaced, if any.")
    tx: TxRef


class AccountRemoved(BaseModel):
    org_id: int
    account: str
    key_wiped: bool = Field(description="Whether the API held this key and has now destroyed it.")
    tx: TxRef

"""Login challenges, tokens and API keys."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "ChallengeCreate",
    "ChallengePublic",
    "TokenCreate",
    "TokenPublic",
]


class ChallengeCreate(BaseModel):
    account: str = Field(
        pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"]
    )


class ChallengePublic(BaseModel):
    challenge_id: str
    text: str = Field(description="Sign exactly this text with EIP-191 (personal_sign).")
    expires_at: int


class TokenCreate(BaseModel):
    challenge_id: str = Field(min_length=1, max_length=64)
    signature: str = Field(pattern=r"^(0x)?[0-9a-fA-F]{130}$")


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    org_id: int
    kind: str
    account: str


class ApiKeyCreate(BaseModel):
    scope: Literal["read", "write"] = "read"
    label: str = Field(default="", max_length=100)


class ApiKeyPublic(BaseModel):
    id: str
    org_id: int
    account: str
    scope: Literal["read", "write"]
    label: str
    created_at: int
    revoked: bool


class ApiKeyCreated(ApiKeyPublic):
    secret: str = Field(description="Shown only now: send it as X-API-Key.")

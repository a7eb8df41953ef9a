"""Login by a signed challenge, and API keys for server-to-server use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api import auth
from api.deps import Ctx, CurrentOrg, Pagination
from api.errors import Forbidden
from api.schemas.auth import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ChallengeCreate,
    ChallengePublic,
    TokenCreate,
    TokenPublic,
)
from api.schemas.common import Paged, page_of

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/challenge", status_code=status.HTTP_201_CREATED)
def challenge(ctx: Ctx, body: ChallengeCreate) -> ChallengePublic:
    """A single-use challenge for ``account`` to sign (EIP-191), valid for a few minutes."""
    return ChallengePublic(**auth.issue_challenge(ctx.db, ctx.settings, body.account))


@router.get("/challenge")
def challenge_for(
    ctx: Ctx, account: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")]
) -> ChallengePublic:
    """The same as POST, for clients that can only GET: ``?account=0x…``."""
    return ChallengePublic(**auth.issue_challenge(ctx.db, ctx.settings, account))


@router.post("/token")
def token(ctx: Ctx, body: TokenCreate) -> TokenPublic:
    """Exchanges a signed challenge for a short-lived bearer token."""
    org_id, kind, account = auth.exchange_challenge(
        ctx.db, ctx.protocol, body.challenge_id, body.signature
    )
    access, ttl = auth.issue_token(ctx.settings, org_id, kind, account)
    return TokenPublic(
        access_token=access, expires_in=ttl, org_id=org_id, kind=kind.name.lower(), account=account
    )


@router.post("/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(ctx: Ctx, principal: CurrentOrg, body: ApiKeyCreate) -> ApiKeyCreated:
    """A new API key of the caller's organisation; its secret is shown only in this response."""
    if principal.via != "token":
        raise Forbidden("API keys are created after a login, not with another API key")
    record, secret = auth.create_api_key(ctx.db, principal, body.scope, body.label)
    return ApiKeyCreated(**record, secret=secret)


@router.get("/api-keys")
def list_api_keys(ctx: Ctx, principal: CurrentOrg, page: Pagination) -> Paged[ApiKeyPublic]:
    keys = [ApiKeyPublic(**k) for k in auth.list_api_keys(ctx.db, principal.org_id)]
    return page_of(keys, page)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(ctx: Ctx, principal: CurrentOrg, key_id: str) -> None:
    auth.revoke_api_key(ctx.db, principal.org_id, key_id)

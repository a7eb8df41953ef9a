"""Who is calling: login by a signed challenge (EIP-191) for a short-lived token, or API keys.

Either way the caller is a :class:`Principal` — an account of an organisation — and on every
request the account must still be an active account of an active organisation in the on-chain
registry, so freezing an organisation shuts its sessions and keys at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address

from api.db import Database
from api.errors import NotAuthenticated, NotFound, OrganisationNotActive, TokenExpired
from api.settings import Settings
from voucher_chain.contracts import OrgKind, OrgStatus, Protocol, call

__all__ = [
    "API_KEY_PREFIX",
    "Principal",
    "Scope",
    "authenticate_api_key",
    "authenticate_token",
    "create_api_key",
    "exchange_challenge",
    "issue_challenge",
    "issue_token",
    "list_api_keys",
    "move_api_keys",
    "org_on_chain",
    "revoke_api_key",
    "revoke_api_keys_of",
]

API_KEY_PREFIX = "vck_"
Scope = Literal["read", "write"]
_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """An organisation acting through one of its accounts."""

    org_id: int
    kind: OrgKind
    account: str
    via: Literal["token", "api-key"]
    scope: Scope = "write"

    def is_(self, *kinds: OrgKind) -> bool:
        return self.kind in kinds


def org_on_chain(protocol: Protocol, account: str) -> tuple[int, OrgKind]:
    """The organisation ``account`` acts for, if both are active; else OrganisationNotActive."""
    org_id, active = call(protocol.registry.functions.orgOf(to_checksum_address(account)))
    if not org_id or not active:
        raise OrganisationNotActive(
            f"{account} is not an active account of a registered organisation", account=account
        )
    kind, status, *_ = call(protocol.registry.functions.organisation(org_id))
    if OrgStatus(status) != OrgStatus.ACTIVE:
        raise OrganisationNotActive(
            f"organisation {org_id} is {OrgStatus(status).name.lower()}; it cannot act",
            org_id=int(org_id),
            status=OrgStatus(status).name.lower(),
        )
    return int(org_id), OrgKind(kind)


# -- challenges and tokens ------------------------------------------------------------------------


def issue_challenge(db: Database, settings: Settings, account: str) -> dict[str, Any]:
    """A single-use random challenge for ``account`` to sign (EIP-191 ``personal_sign``)."""
    account = to_checksum_address(account)
    challenge_id = secrets.token_hex(16)
    expires_at = time.time() + settings.challenge_ttl_seconds
    text = (
        "Sign in to VoucherChain\n"
        f"Account: {account}\n"
        f"Challenge: {challenge_id}\n"
        f"Nonce: {secrets.token_hex(16)}\n"
        f"Expires: {int(expires_at)}"
    )
    with db.connect() as conn:
        conn.execute("DELETE FROM challenges WHERE expires_at < ?", (time.time() - 3600,))
        conn.execute(
            "INSERT INTO challenges (id, account, text, expires_at) VALUES (?, ?, ?, ?)",
            (challenge_id, account, text, expires_at),
        )
    return {"challenge_id": challenge_id, "text": text, "expires_at": int(expires_at)}


def exchange_challenge(
    db: Database, protocol: Protocol, challenge_id: str, signature: str
) -> tuple[int, OrgKind, str]:
    """Uses up a challenge: the signer must be its account, active in an active organisation."""
    with db.connect() as conn:
        row = conn.execute(
            "SELECT account, text, expires_at, used FROM challenges WHERE id = ?", (challenge_id,)
        ).fetchone()
        if row is None or row["used"]:
            raise NotAuthenticated("unknown or already used challenge; request a new one")
        conn.execute("UPDATE challenges SET used = 1 WHERE id = ?", (challenge_id,))
    if row["expires_at"] < time.time():
        raise NotAuthenticated("the challenge has expired; request a new one")
    try:
        signer = Account.recover_message(encode_defunct(text=row["text"]), signature=signature)
    except Exception:
        raise NotAuthenticated("the signature cannot be read") from None
    if signer != row["account"]:
        raise NotAuthenticated("the challenge was not signed by its account")
    org_id, kind = org_on_chain(protocol, signer)
    return org_id, kind, signer


def issue_token(settings: Settings, org_id: int, kind: OrgKind, account: str) -> tuple[str, int]:
    """A bearer token (HS256) and its lifetime in seconds."""
    now = int(time.time())
    ttl = settings.token_ttl_seconds
    claims = {
        "sub": str(org_id),
        "kind": int(kind),
        "acct": account,
        "iat": now,
        "exp": now + ttl,
        "typ": "access",
    }
    return jwt.encode(claims, settings.token_secret.get_secret_value(), _ALGORITHM), ttl


def authenticate_token(settings: Settings, protocol: Protocol, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.token_secret.get_secret_value(),
            algorithms=[_ALGORITHM],
            options={"require": ["sub", "exp", "acct"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired("the token has expired; log in again") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("the token is not valid") from None
    if claims.get("typ") != "access":
        raise NotAuthenticated("the token is not an access token")
    org_id, kind = org_on_chain(protocol, str(claims["acct"]))
    if str(org_id) != claims["sub"]:
        raise OrganisationNotActive("the token's account no longer acts for its organisation")
    return Principal(org_id=org_id, kind=kind, account=str(claims["acct"]), via="token")


# -- API keys -------------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    db: Database, principal: Principal, scope: Scope, label: str
) -> tuple[dict[str, Any], str]:
    """A new key for the principal's organisation: its record, and the secret (shown once)."""
    key_id = secrets.token_hex(8)
    secret = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    now = time.time()
    with db.connect() as conn:
        conn.execute(
            "INSERT INTO api_keys (id, org_id, account, scope, label, secret_sha256, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key_id, principal.org_id, principal.account, scope, label, _digest(secret), now),
        )
    record = {
        "id": key_id,
        "org_id": principal.org_id,
        "account": principal.account,
        "scope": scope,
        "label": label,
        "created_at": int(now),
        "revoked": False,
    }
    return record, secret


def list_api_keys(db: Database, org_id: int) -> list[dict[str, Any]]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT * FROM api_keys WHERE org_id = ? ORDER BY created_at", (org_id,)
        ).fetchall()
    return [
        {
            "id": r["id"],
            "org_id": r["org_id"],
            "account": r["account"],
            "scope": r["scope"],
            "label": r["label"],
            "created_at": int(r["created_at"]),
            "revoked": r["revoked_at"] is not None,
        }
        for r in rows
    ]


def revoke_api_key(db: Database, org_id: int, key_id: str) -> None:
    with db.connect() as conn:
        cursor = conn.execute(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND org_id = ? AND revoked_at IS NULL",
            (time.time(), key_id, org_id),
        )
        if cursor.rowcount != 1:
            raise NotFound(f"no active API key {key_id} of organisation {org_id}", key_id=key_id)


def move_api_keys(db: Database, org_id: int, old: str, new: str) -> int:
    """A key rotation: the organisation's API keys that acted through ``old`` now act through
    ``new`` (the same credential, a new signing key). How many moved."""
    with db.connect() as conn:
        cursor = conn.execute(
            "UPDATE api_keys SET account = ? WHERE org_id = ? AND account = ?",
            (to_checksum_address(new), org_id, to_checksum_address(old)),
        )
    return int(cursor.rowcount)


def revoke_api_keys_of(db: Database, org_id: int, account: str) -> int:
    """An account removed: the API keys that acted through it are revoked. How many."""
    with db.connect() as conn:
        cursor = conn.execute(
            "UPDATE api_keys SET revoked_at = ? "
            "WHERE org_id = ? AND account = ? AND revoked_at IS NULL",
            (time.time(), org_id, to_checksum_address(account)),
        )
    return int(cursor.rowcount)


def authenticate_api_key(db: Database, protocol: Protocol, secret: str) -> Principal:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT org_id, account, scope FROM api_keys "
            "WHERE secret_sha256 = ? AND revoked_at IS NULL",
            (_digest(secret),),
        ).fetchone()
    if row is None:
        raise NotAuthenticated("unknown or revoked API key")
    org_id, kind = org_on_chain(protocol, row["account"])
    if org_id != row["org_id"]:
        raise OrganisationNotActive("the API key's account no longer acts for its organisation")
    return Principal(
        org_id=org_id, kind=kind, account=row["account"], via="api-key", scope=row["scope"]
    )

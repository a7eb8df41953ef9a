"""The API's one settings object, read from ``VOUCHER_CHAIN_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEV_TOKEN_SECRET", "Settings"]

#: The token secret of a development setup. Refused in any other environment.
DEV_TOKEN_SECRET = "development-only-token-secret-change-me"


class Settings(BaseSettings):
    """Where the chain, the database and the keys are, and how long credentials live."""

    model_config = SettingsConfigDict(env_prefix="VOUCHER_CHAIN_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    token_secret: SecretStr = SecretStr(DEV_TOKEN_SECRET)
    token_ttl_seconds: int = Field(default=900, gt=0, le=24 * 3600)
    challenge_ttl_seconds: int = Field(default=300, gt=0, le=3600)
    database_path: Path = Path("var/api.sqlite3")
    rpc_url: str | None = Field(default=None, description="JSON-RPC URL of the chain's node.")
    rpc_token: SecretStr | None = Field(
        default=None, description="Bearer token the chain's JSON-RPC requires, if any."
    )
    deployment_path: Path | None = Field(
        default=None, description="JSON file of the protocol's addresses (name → address)."
    )
    keystore_path: Path | None = Field(
        default=None, description="Keystore of the organisations that chose custody."
    )
    keystore_passphrase: SecretStr | None = None
    keystore_master_key: SecretStr | None = Field(
        default=None, description="32-byte master key of the keystore, hex."
    )
    relayer_account: str | None = Field(
        default=None,
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="Keystore account that pays for relayed self-custody requests.",
    )
    idempotency_wait_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _no_default_secrets(self) -> Settings:
        if self.environment != "development":
            secret = self.token_secret.get_secret_value()
            if secret == DEV_TOKEN_SECRET or len(secret) < 32:
                raise ValueError(
                    "VOUCHER_CHAIN_TOKEN_SECRET must be set to a random secret of at least 32 "
                    f"characters outside development (environment={self.environment})"
                )
        return self

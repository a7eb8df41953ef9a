"""Thresholds of the anomaly rules: defaults here, overridden by ``VOUCHER_CHAIN_AUDIT_*``
environment variables, which a TOML file (``[anomalies]`` table, or top-level keys) overrides
in turn. Unknown keys are refused."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AnomalyConfig", "load_config"]

DAY = 86_400


class AnomalyConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOUCHER_CHAIN_AUDIT_", extra="forbid")

    split_min_orders: int = Field(default=3, ge=2, description="Orders that together look split.")
    split_window_seconds: int = Field(7 * DAY, gt=0)
    split_default_cap: int = Field(
        default=1_000_000, gt=0, description="fen; cap when the program sets no per-order ceiling."
    )
    concentration_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of a program's redeemed value at one institution.",
    )
    concentration_min_institutions: int = Field(
        default=3,
        ge=1,
        description="Only programs whose money reached at least this many institutions.",
    )
    concentration_min_redeemed: int = Field(default=1_000_000, ge=0, description="fen")
    round_trip_share: float = Field(
        default=0.3, gt=0, description="Payback ≥ this share of what the institution was paid."
    )
    round_trip_window_seconds: int = Field(30 * DAY, gt=0)
    fast_confirm_seconds_per_yuan: float = Field(
        default=8.64,
        ge=0,
        description="Minimum order→confirmation time per yuan (8.64 s = 1 day/¥10k).",
    )
    fast_confirm_min_amount: int = Field(
        default=1_000_000, ge=0, description="fen; smaller orders skip."
    )
    price_peer_ratio: float = Field(default=3.0, gt=1, description="Unit price / peers' median.")
    price_peer_min_peers: int = Field(default=3, ge=1)
    price_catalogue_ratio: float = Field(
        default=1.5, gt=1, description="Unit price / first listed."
    )
    failed_related_min_attempts: int = Field(default=2, ge=1)


def load_config(path: Path | None = None, **overrides: Any) -> AnomalyConfig:
    """Defaults < environment < TOML file < ``overrides``."""
    values: dict[str, Any] = {}
    if path is not None:
        document = tomllib.loads(path.read_text())
        values.update(document.get("anomalies", document))
    values.update(overrides)
    return AnomalyConfig(**values)

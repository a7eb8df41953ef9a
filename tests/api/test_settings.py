"""Settings refuse default secrets outside development; contract errors map to statuses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.errors import revert_status
from api.settings import DEV_TOKEN_SECRET, Settings


def test_default_secret_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOUCHER_CHAIN_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="TOKEN_SECRET"):
        Settings()
    monkeypatch.setenv("VOUCHER_CHAIN_TOKEN_SECRET", "short")
    with pytest.raises(ValidationError, match="TOKEN_SECRET"):
        Settings()
    monkeypatch.setenv("VOUCHER_CHAIN_TOKEN_SECRET", "x" * 40)
    assert Settings().environment == "production"


def test_development_may_use_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOUCHER_CHAIN_ENVIRONMENT", raising=False)
    monkeypatch.delenv("VOUCHER_CHAIN_TOKEN_SECRET", raising=False)
    assert Settings().token_secret.get_secret_value() == DEV_TOKEN_SECRET


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("OrderNotParty", 403),
        ("ProgramNotIssuer", 403),
        ("ProtocolUnauthorizedAccount", 403),
        ("OrderUnknown", 404),
        ("ProgramUnknown", 404),
        ("OrderInvalidState", 409),
        ("ProgramDuplicateRequest", 409),
        ("ProgramRegionNotAllowed", 422),
        ("ProgramHolderCapExceeded", 422),
        ("Panic", 500),
    ],
)
def test_contract_errors_map_to_statuses(name: str, status: int) -> None:
    assert revert_status(name) == status

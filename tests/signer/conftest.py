"""Signer fixtures: keystores with tiny scrypt parameters (the real ones cost ~0.1 s per unlock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voucher_chain.signer import Keystore, ScryptParams

#: Test-only scrypt costs: fast, still a real scrypt.
FAST = ScryptParams(n=2**4, r=8, p=1)
#: Test-only scrypt work factor for V3 keyfile exports.
EXPORT_N = 2**4
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def keystore_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "voucher-chain.keystore.json"


@pytest.fixture
def keystore(keystore_path: Path) -> Keystore:
    keystore_path.parent.mkdir()
    return Keystore.create(keystore_path, passphrase=PASSPHRASE, scrypt=FAST)

"""Services over the in-process chain: the node (eth-tester) signs for its unlocked accounts."""

from __future__ import annotations

import pytest

from tests.world import World
from voucher_chain.contracts import transact
from voucher_chain.services import VoucherClient


@pytest.fixture
def client(world: World) -> VoucherClient:
    return VoucherClient(world.p, transact)

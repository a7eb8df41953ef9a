"""The test world: :mod:`voucher_chain.sandbox`'s helpers plus revert assertions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from voucher_chain import ContractRevert
from voucher_chain.sandbox import (
    BEIJING,
    BEIJING_HAIDIAN,
    CHANGXING,
    DAY,
    HANGZHOU,
    HUZHOU,
    SHANGHAI,
    SHANGHAI_PUDONG,
    WUHAN,
    YUAN,
    ZHEJIANG,
    Org,
    World,
)

__all__ = [
    "BACKEND",
    "BEIJING",
    "BEIJING_HAIDIAN",
    "CHANGXING",
    "DAY",
    "HANGZHOU",
    "HUZHOU",
    "SHANGHAI",
    "SHANGHAI_PUDONG",
    "WUHAN",
    "YUAN",
    "ZHEJIANG",
    "Org",
    "World",
    "pyevm_only",
    "reverts",
    "unpermissioned_sender",
]


#: The chain the tests run on (see tests/conftest.py).
BACKEND = os.environ.get("VOUCHER_CHAIN_TEST_BACKEND", "pyevm")
BACKENDS = ("pyevm", "node", "anvil")
if BACKEND not in BACKENDS:
    raise pytest.UsageError(
        f"VOUCHER_CHAIN_TEST_BACKEND must be one of {', '.join(BACKENDS)}, not {BACKEND!r}"
    )

#: Marks a test that needs eth-tester itself: py-evm internals or eth-tester's own formats.
pyevm_only = pytest.mark.skipif(BACKEND != "pyevm", reason="needs the eth-tester backend")

#: Marks a test that sends from an unregistered account: the embedded node refuses it at
#: admission (permissioning, by design); eth-tester and Anvil have no permissioning.
unpermissioned_sender = pytest.mark.skipif(
    BACKEND == "node", reason="the node's permissioning refuses an unregistered sender"
)


@contextmanager
def reverts(name: str, **expected: Any) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
    """Asserts the block raises :class:`ContractRevert` ``name`` with at least ``expected`` args."""
    with pytest.raises(ContractRevert) as info:
        yield info
    err = info.value
    assert err.name == name, f"expected {name}, got {err.name}: {err.message}"
    for key, value in expected.items():
        assert key in err.args_by_name, f"{name} has no argument {key}: {err.args_by_name}"
        assert err.args_by_name[key] == value, (
            f"{name}.{key}: expected {value!r}, got {err.args_by_name[key]!r}"
        )

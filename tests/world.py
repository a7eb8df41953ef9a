"""The test world: :mod:`voucher_chain.sandbox`'s helpers plus revert assertions."""

from __future__ import annotations

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
    "reverts",
]


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

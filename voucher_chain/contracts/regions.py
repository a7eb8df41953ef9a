"""GB/T 2260 region codes as Regions.sol reads them: patterns (``0`` national, ``310000``
Shanghai, ``330500`` Huzhou, ``330522`` Changxing) and the province a code belongs to."""

from __future__ import annotations

__all__ = ["matches", "province_of"]


def matches(pattern: int, code: int) -> bool:
    """Whether ``code`` lies in ``pattern`` (the contracts' rule: trailing zero pairs widen it)."""
    if pattern == 0:
        return True
    if pattern % 10000 == 0:
        return code // 10000 == pattern // 10000
    if pattern % 100 == 0:
        return code // 100 == pattern // 100
    return code == pattern


def province_of(code: int) -> int:
    """The province-level code of ``code`` (``330522`` → ``330000``)."""
    return code // 10000 * 10000

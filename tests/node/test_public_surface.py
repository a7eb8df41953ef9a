"""The node package's public surface is what `__all__` says."""

from __future__ import annotations

import voucher_chain.node as node_package


def test_all_names_exist_and_are_sorted() -> None:
    assert node_package.__all__ == sorted(node_package.__all__)
    for name in node_package.__all__:
        assert getattr(node_package, name) is not None

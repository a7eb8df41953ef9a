"""The audit package's public surface is what `__all__` says, and it never writes to the chain:
no module of it imports the signer's submitter, the services or the API."""

from __future__ import annotations

import ast
from pathlib import Path

import voucher_chain.audit as audit_package


def test_all_names_exist_and_are_sorted() -> None:
    assert audit_package.__all__ == sorted(audit_package.__all__)
    for name in audit_package.__all__:
        assert getattr(audit_package, name) is not None


def test_the_audit_imports_nothing_that_writes() -> None:
    forbidden = ("api", "voucher_chain.services", "voucher_chain.signer.submit")
    for path in Path(audit_package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not any(name == f or name.startswith(f + ".") for f in forbidden), (
                    path.name,
                    name,
                )

"""Besu's accounts allowlist kept in step with the on-chain participant registry.

Besu's local account permissioning (``--permissions-accounts-config-file-enabled``) accepts a
transaction only from an account in ``accounts-allowlist`` of the node's
``permissions_config.toml`` — when it is submitted, when it is propagated, and when a validator
adds it to a block (blocks received from others are not re-checked). The registry's
``isActiveAccount`` is the protocol's allowlist; this module copies it to Besu in two ways:

- :func:`write_permissions_file`: rewrite ``accounts-allowlist`` in the TOML file, keeping
  every other line (``nodes-allowlist``), then Besu's ``perm_reloadPermissionsFromFile``;
- :func:`sync_over_rpc`: ``perm_addAccountsToAllowlist`` / ``perm_removeAccountsFromAllowlist``
  for the difference with ``perm_getAccountsAllowlist`` (needs ``--rpc-http-api=...,PERM``;
  Besu persists the change to its file itself).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.types import RPCEndpoint

from voucher_chain.contracts import Protocol, call
from voucher_chain.errors import VoucherChainError
from voucher_chain.files import write_atomically

__all__ = [
    "AllowlistChange",
    "BesuRpcError",
    "active_accounts",
    "reload_from_file",
    "render_permissions",
    "sync_over_rpc",
    "write_permissions_file",
]

_ACCOUNTS_LINE = re.compile(r"^\s*accounts-allowlist\s*=")


class BesuRpcError(VoucherChainError):
    """A Besu ``perm_*`` call failed (PERM API not enabled, or the node refused the list)."""


@dataclass(frozen=True)
class AllowlistChange:
    """What a sync did: accounts added and removed (checksummed, sorted), and the result."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    allowlist: tuple[str, ...]


def active_accounts(protocol: Protocol, keep: Iterable[str] = ()) -> list[ChecksumAddress]:
    """Every account the registry lets send transactions (``isActiveAccount``), plus ``keep``,
    sorted; read from the chain's latest block, one organisation at a time."""
    registry = protocol.registry.functions
    found: set[ChecksumAddress] = {Web3.to_checksum_address(a) for a in keep}
    for org_id in range(1, int(call(registry.organisationCount())) + 1):
        for account in call(registry.accountsOf(org_id)):
            if call(registry.isActiveAccount(account)):
                found.add(Web3.to_checksum_address(account))
    return sorted(found, key=str.lower)


def render_permissions(existing: str, accounts: Iterable[str]) -> str:
    """``existing`` TOML text with its ``accounts-allowlist`` replaced by ``accounts`` (added
    if absent); every other line is kept as it was."""
    entries = ", ".join(json.dumps(a.lower()) for a in accounts)
    line = f"accounts-allowlist=[{entries}]"
    lines = existing.splitlines()
    out: list[str] = []
    replaced = False
    skipping = False
    for raw in lines:
        if skipping:  # the rest of a multi-line array being replaced
            skipping = "]" not in raw
            continue
        if _ACCOUNTS_LINE.match(raw):
            out.append(line)
            replaced = True
            skipping = "]" not in raw
            continue
        out.append(raw)
    if not replaced:
        out.insert(0, line)
    return "\n".join(out) + "\n"


def _allowlist_in(text: str) -> list[str]:
    match = re.search(r"^\s*accounts-allowlist\s*=\s*\[(.*?)\]", text, re.M | re.S)
    if match is None:
        return []
    return [Web3.to_checksum_address(a) for a in re.findall(r"0x[0-9a-fA-F]{40}", match[1])]


def write_permissions_file(path: Path, accounts: Iterable[str]) -> AllowlistChange:
    """Rewrites ``path``'s accounts allowlist (atomically; created if missing)."""
    wanted = [Web3.to_checksum_address(a) for a in accounts]
    existing = path.read_text() if path.exists() else ""
    before = set(_allowlist_in(existing))
    text = render_permissions(existing, wanted)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return _change(before, wanted)


def _change(before: set[str], wanted: list[ChecksumAddress]) -> AllowlistChange:
    after = set(wanted)
    return AllowlistChange(
        added=tuple(sorted(after - before, key=str.lower)),
        removed=tuple(sorted(before - after, key=str.lower)),
        allowlist=tuple(sorted(after, key=str.lower)),
    )


def _perm(w3: Web3, method: str, params: list[Any]) -> Any:
    response = w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in response:
        raise BesuRpcError(
            f"{method} failed: {response['error']} (is the PERM API enabled with "
            "--rpc-http-api=...,PERM and account permissioning with "
            "--permissions-accounts-config-file-enabled?)"
        )
    return response.get("result")


def sync_over_rpc(w3: Web3, accounts: Iterable[str]) -> AllowlistChange:
    """Makes the node's accounts allowlist equal ``accounts`` through Besu's PERM API."""
    wanted = [Web3.to_checksum_address(a) for a in accounts]
    current: set[str] = {
        Web3.to_checksum_address(a) for a in _perm(w3, "perm_getAccountsAllowlist", [])
    }
    change = _change(current, wanted)
    if change.added:
        _perm(w3, "perm_addAccountsToAllowlist", [[a.lower() for a in change.added]])
    if change.removed:
        _perm(w3, "perm_removeAccountsFromAllowlist", [[a.lower() for a in change.removed]])
    return change


def reload_from_file(w3: Web3) -> None:
    """Besu's ``perm_reloadPermissionsFromFile``: the node re-reads its permissions file."""
    _perm(w3, "perm_reloadPermissionsFromFile", [])

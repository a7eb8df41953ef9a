"""Signed exports: a report anchored to a block number and hash, signed by a regulator's key
(EIP-191 ``personal_sign`` over the canonical JSON of the document), and the check anyone can
run against the chain: the signature recovers to an account of an active regulator
organisation, the chain has that hash at that number, and re-indexing the chain from genesis to
the anchor (into a scratch SQLite file) gives the same report."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from hexbytes import HexBytes
from sqlalchemy.orm import Session

from voucher_chain.audit.db import open_database
from voucher_chain.audit.errors import ExportInvalid
from voucher_chain.audit.indexer import Indexer
from voucher_chain.audit.reports import Filters, head, summary_report
from voucher_chain.contracts import OrgKind, Protocol

__all__ = ["EXPORT_KIND", "build_export", "canonical", "check_export"]

EXPORT_KIND = "voucher-chain/audit-export/1"


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _report(s: Session, filters: Filters) -> dict[str, Any]:
    report = summary_report(s, filters)
    plain: dict[str, Any] = json.loads(
        json.dumps(
            {
                "totals": report["totals"].model_dump(),
                "programs": [p.model_dump() for p in report["programs"]],
                "regions": [r.model_dump() for r in report["regions"]],
            }
        )
    )
    return plain


def build_export(
    s: Session,
    chain_id: int,
    filters: Filters,
    signer: str,
    sign: Callable[[str], bytes],
) -> dict[str, Any]:
    """The signed export of the summary report at the index's head."""
    anchor = head(s)
    if anchor is None:
        raise ExportInvalid("nothing is indexed yet: nothing to export")
    document = {
        "kind": EXPORT_KIND,
        "chain_id": chain_id,
        "anchor": {"block": anchor[0], "hash": anchor[1]},
        "filters": filters.__dict__,
        "report": _report(s, filters),
    }
    signature = sign(canonical(document))
    return {"document": document, "signer": signer, "signature": HexBytes(signature).to_0x_hex()}


def check_export(export: dict[str, Any], protocol: Protocol) -> str:
    """Raises :class:`ExportInvalid` naming the first problem; returns a one-line verdict."""
    document = export["document"]
    if document.get("kind") != EXPORT_KIND:
        raise ExportInvalid(f"not an audit export (kind {document.get('kind')!r})")
    text = canonical(document)
    recovered = Account.recover_message(encode_defunct(text=text), signature=export["signature"])
    if recovered.lower() != str(export["signer"]).lower():
        raise ExportInvalid(f"the signature recovers to {recovered}, not {export['signer']}")
    org_id, active = protocol.registry.functions.orgOf(recovered).call()
    kind = (
        OrgKind(int(protocol.registry.functions.organisation(org_id).call()[0])) if org_id else None
    )
    if kind is not OrgKind.REGULATOR:
        raise ExportInvalid(f"signer {recovered} is not an account of a regulator (org {org_id})")
    w3 = protocol.w3
    if int(w3.eth.chain_id) != int(document["chain_id"]):
        raise ExportInvalid(f"exported on chain {document['chain_id']}, this is {w3.eth.chain_id}")
    number, expected = int(document["anchor"]["block"]), str(document["anchor"]["hash"])
    actual = HexBytes(w3.eth.get_block(number)["hash"]).to_0x_hex()
    if actual != expected:
        raise ExportInvalid(f"block {number} is {actual} on this chain, the export says {expected}")
    with tempfile.TemporaryDirectory() as tmp:
        engine, sessions = open_database(Path(tmp) / "recheck.sqlite3")
        try:
            Indexer(protocol, sessions).sync(number)
            with sessions() as s:
                again = _report(s, Filters(**document["filters"]))
        finally:
            engine.dispose()
    if again != document["report"]:
        raise ExportInvalid(f"re-deriving the report from the chain up to block {number} differs")
    return (
        f"OK: export signed by {recovered} (regulator org {org_id}) matches the chain at "
        f"block {number}"
    )

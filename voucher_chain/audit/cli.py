"""``voucher-chain audit …``: index, report, anomalies, verify, export, check-export."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["add_audit_parser", "run"]

#: Report name on the command line (and in the API path) → function of :mod:`.reports`.
REPORTS = {
    "summary": "summary_report",
    "categories": "category_report",
    "institutions": "institution_report",
    "enterprises": "enterprise_report",
    "flows": "flow_report",
    "latency": "latency_report",
    "monthly": "monthly_report",
}


def add_audit_parser(commands: Any) -> None:
    audit = commands.add_parser("audit", help="index the chain, report, flag anomalies, verify")
    sub = audit.add_subparsers(dest="audit_command", required=True)

    def chain(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rpc", required=True, help="JSON-RPC URL of any node of the chain")
        p.add_argument("--deployment", type=Path, required=True, help="contract name → address")

    def db(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", default="audit.sqlite3", help="SQLite file or SQLAlchemy URL")

    index = sub.add_parser("index", help="index new blocks (and keep following with --follow)")
    chain(index)
    db(index)
    index.add_argument("--follow", action="store_true")
    index.add_argument("--confirmations", type=int, default=0)
    index.add_argument("--poll", type=float, default=1.0, help="seconds between polls")
    report = sub.add_parser("report", help="print a report")
    report.add_argument("name", choices=sorted(REPORTS))
    db(report)
    report.add_argument("--format", choices=("json", "csv", "table"), default="table")
    for name, kind in (("--region", int), ("--program-id", int), ("--fiscal-year", int)):
        report.add_argument(name, type=kind)
    report.add_argument("--since", type=int)
    report.add_argument("--until", type=int)
    anomalies = sub.add_parser("anomalies", help="print the anomaly rules' findings")
    db(anomalies)
    anomalies.add_argument("--config", type=Path, help="TOML file of thresholds")
    verify = sub.add_parser(
        "verify", help="index, events and contracts agree; blocks are the chain's"
    )
    chain(verify)
    db(verify)
    verify.add_argument("--data-dir", type=Path, help="the embedded node's data dir (seals)")
    export = sub.add_parser("export", help="write a signed, block-anchored summary report")
    chain(export)
    db(export)
    export.add_argument("--keystore", type=Path, required=True)
    export.add_argument("--account", required=True, help="the regulator's account")
    export.add_argument("--out", type=Path, required=True)
    check = sub.add_parser("check-export", help="re-check an export against the chain")
    check.add_argument("file", type=Path)
    chain(check)


def _protocol(args: argparse.Namespace) -> Any:
    from voucher_chain.connect import http_web3
    from voucher_chain.contracts import Protocol

    w3 = http_web3(args.rpc)
    return Protocol.at(w3, json.loads(args.deployment.read_text()))


def _print_rows(rows: list[dict[str, Any]], fmt: str) -> None:
    from voucher_chain.audit.render import to_csv, to_table

    if fmt == "json":
        print(json.dumps(rows, indent=2, default=str))
    else:
        sys.stdout.write(to_csv(rows) if fmt == "csv" else to_table(rows))


def _report(args: argparse.Namespace) -> int:
    from voucher_chain.audit import reports
    from voucher_chain.audit.db import open_database

    f = reports.Filters(args.region, args.program_id, args.fiscal_year, args.since, args.until)
    _, sessions = open_database(args.db)
    with sessions() as s:
        result: Any = getattr(reports, REPORTS[args.name])(s, f)
    if args.name == "summary":
        rows = [
            {"scope": "total", **result["totals"].model_dump()},
            *({"scope": "region", **x.model_dump()} for x in result["regions"]),
            *({"scope": "program", **x.model_dump()} for x in result["programs"]),
        ]
    elif args.name == "enterprises":
        rows = [{"group": g, **x} for g in ("by_size", "by_industry") for x in result[g]]
    elif args.name == "latency":
        rows = [{"stage": k, **v} for k, v in result.items()]
    else:
        rows = result
    _print_rows(rows, args.format)
    return 0


def _index(args: argparse.Namespace) -> int:
    from voucher_chain.audit.db import open_database
    from voucher_chain.audit.indexer import Indexer

    _, sessions = open_database(args.db)
    indexer = Indexer(_protocol(args), sessions, confirmations=args.confirmations)
    result = indexer.sync()
    print(
        f"indexed blocks {result.first}..{result.last}: {result.events} events, "
        f"{result.raw_logs} raw logs, {result.failed_txs} failed transactions"
    )
    if args.follow:
        indexer.follow(threading.Event(), poll_seconds=args.poll)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from voucher_chain.audit.db import open_database
    from voucher_chain.audit.verify import verify

    _, sessions = open_database(args.db)
    with sessions() as s:
        verdict = verify(s, _protocol(args), data_dir=args.data_dir)
    for line in (*verdict.notes, *verdict.problems):
        print(line)
    print(verdict.line())
    return 0 if verdict.ok else 1


def _export(args: argparse.Namespace) -> int:
    from voucher_chain.audit.db import open_database
    from voucher_chain.audit.export import build_export
    from voucher_chain.audit.reports import Filters
    from voucher_chain.signer import Keystore, LocalSigner

    passphrase = os.environ.get("VOUCHER_CHAIN_KEYSTORE_PASSPHRASE") or getpass.getpass()
    signer = LocalSigner(Keystore.open(args.keystore, passphrase=passphrase))
    protocol = _protocol(args)
    _, sessions = open_database(args.db)
    with sessions() as s:
        document = build_export(
            s,
            int(protocol.w3.eth.chain_id),
            Filters(),
            args.account,
            lambda text: signer.sign_message(args.account, text),
        )
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    anchor = document["document"]["anchor"]
    print(f"wrote {args.out}: anchored to block {anchor['block']} {anchor['hash']}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from voucher_chain.audit.errors import ExportInvalid
    from voucher_chain.audit.export import check_export

    try:
        print(check_export(json.loads(args.file.read_text()), _protocol(args)))
    except ExportInvalid as exc:
        print(f"INVALID: {exc}")
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    if args.audit_command == "anomalies":
        from voucher_chain.audit.anomalies import detect
        from voucher_chain.audit.config import load_config
        from voucher_chain.audit.db import open_database

        _, sessions = open_database(args.db)
        with sessions() as s:
            found = detect(s, load_config(args.config))
        for a in found:
            print(f"[{a.rule}] {a.explanation}")
        print(f"{len(found)} finding(s)")
        return 0
    handlers = {
        "index": _index,
        "report": _report,
        "verify": _verify,
        "export": _export,
        "check-export": _check,
    }
    return handlers[args.audit_command](args)

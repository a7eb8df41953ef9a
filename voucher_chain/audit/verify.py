"""Verification: the index, the events it holds and the contracts must agree, and the stored
blocks must be the chain's.

1. every program's totals re-derived from the indexed events == ``ProgramManager.state(id)``
   on chain == the index's program table;
2. every stored block hash == the chain's hash at that number, and each stored block's parent
   hash == the previous stored block's hash;
3. for the embedded node's data directory, the node's own check
   (:func:`voucher_chain.node.verify.verify_chain`: seals, links, roots) — reused, not copied.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from voucher_chain.audit.decode import from_json
from voucher_chain.audit.models import BlockRow, EventRow, ProgramRow
from voucher_chain.contracts import Protocol

__all__ = ["Verdict", "verify"]

#: ProgramState fields compared, in the struct's order after (issuerOrg, closed, rolloverTo).
FIELDS = (
    "funded",
    "rolled_in",
    "paid",
    "returned",
    "issued_units",
    "redeemed_units",
    "revoked_units",
    "expired_units",
)


@dataclass
class Verdict:
    programs: int = 0
    blocks: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            return f"OK: {self.programs} programs and {self.blocks} blocks agree with the chain"
        return f"MISMATCH: {len(self.problems)} problem(s); first: {self.problems[0]}"


def totals_from_events(s: Session) -> dict[int, dict[str, int]]:
    """Each program's ProgramState totals, re-derived from the indexed events alone."""
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    rows = s.execute(select(EventRow.name, EventRow.args).order_by(EventRow.id))
    for name, text in rows:
        a = from_json(text)
        if name == "ProgramCreated":
            out[int(a["programId"])]  # noqa: B018 - creates the entry
        elif name == "ProgramFunded":
            out[int(a["programId"])]["funded"] += int(a["amount"])
        elif name == "VouchersIssued":
            out[int(a["programId"])]["issued_units"] += int(a["units"])
        elif name == "VouchersRedeemed":
            out[int(a["programId"])]["redeemed_units"] += int(a["units"])
            out[int(a["programId"])]["paid"] += int(a["value"])
        elif name == "RewardPaid":
            out[int(a["programId"])]["paid"] += int(a["amount"])
        elif name == "VouchersRevoked":
            out[int(a["programId"])]["revoked_units"] += int(a["units"])
        elif name == "VouchersExpired":
            out[int(a["programId"])]["expired_units"] += int(a["units"])
        elif name == "ProgramClosed":
            out[int(a["programId"])]["returned"] += int(a["remainingEscrow"])
        elif name == "BudgetRolledOver":
            out[int(a["targetId"])]["rolled_in"] += int(a["amount"])
    return dict(out)


def _table(row: ProgramRow) -> dict[str, int]:
    return {
        "funded": row.funded,
        "rolled_in": row.rolled_in,
        "paid": row.paid,
        "returned": row.returned,
        "issued_units": row.issued_units,
        "redeemed_units": row.redeemed_units,
        "revoked_units": row.revoked_units,
        "expired_units": row.expired_units,
    }


def verify(s: Session, protocol: Protocol, *, data_dir: Path | None = None) -> Verdict:
    """Runs every check; the verdict lists all problems found (empty: all agree)."""
    verdict = Verdict()
    head = s.scalar(select(BlockRow.number).order_by(BlockRow.number.desc()).limit(1))
    derived = totals_from_events(s)
    table = {p.program_id: _table(p) for p in s.scalars(select(ProgramRow))}
    count = int(protocol.programs.functions.programCount().call(block_identifier=head))
    verdict.programs = count
    for pid in range(1, count + 1):
        state = protocol.programs.functions.state(pid).call(block_identifier=head)
        chain = dict(zip(FIELDS, (int(v) for v in state[3:11]), strict=True))
        for source, values in (("events", derived.get(pid)), ("index table", table.get(pid))):
            if values is None:
                verdict.problems.append(f"program {pid}: missing from the {source}")
                continue
            for name in FIELDS:
                if values[name] != chain[name]:
                    verdict.problems.append(
                        f"program {pid} {name}: {source} {values[name]} != contract {chain[name]}"
                    )
    for extra in sorted(set(table) - set(range(1, count + 1))):
        verdict.problems.append(f"program {extra}: in the index but not on chain")
    previous: BlockRow | None = None
    for row in s.scalars(select(BlockRow).order_by(BlockRow.number)):
        verdict.blocks += 1
        actual = HexBytes(protocol.w3.eth.get_block(row.number)["hash"]).to_0x_hex()
        if actual != row.hash:
            verdict.problems.append(f"block {row.number}: indexed {row.hash}, chain has {actual}")
        if previous is not None and previous.number == row.number - 1:
            if row.parent_hash != previous.hash:
                verdict.problems.append(f"block {row.number}: parent hash does not link")
        previous = row
    if data_dir is not None:
        from voucher_chain.node.verify import verify_chain

        report = verify_chain(data_dir)
        if not report.ok:
            verdict.problems.append(f"node chain, block {report.block}: {report.problem}")
    return verdict

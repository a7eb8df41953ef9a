"""A simulated year on the embedded node: three regions' programs, institutions in three
provinces, clean orders spread over months, and planted anomalies. Every report total equals
the contracts' state, each planted anomaly is flagged with its reason and clean traffic raises
none; verify passes, then catches a tampered index row."""

from __future__ import annotations

from sqlalchemy import func, select, update

from tests.audit.year import Year
from tests.world import BEIJING, DAY, SHANGHAI, YUAN, ZHEJIANG
from voucher_chain.audit import anomalies, reports
from voucher_chain.audit.config import load_config
from voucher_chain.audit.decode import from_json
from voucher_chain.audit.indexer import latest_state_reads
from voucher_chain.audit.models import EventRow, OrderRow, ProgramRow
from voucher_chain.audit.verify import verify
from voucher_chain.contracts import call

# ProgramManager.state(): the ProgramState struct's fields, in declaration order
FUNDED, ROLLED_IN, PAID, RETURNED, ISSUED, REDEEMED, REVOKED, EXPIRED = 3, 4, 5, 6, 7, 8, 9, 10


def test_report_totals_equal_contract_state(year: Year) -> None:
    world, sessions = year.world, year.sessions
    with sessions() as s:
        summary = reports.summary_report(s)
    p = world.p.programs.functions
    count = call(p.programCount())
    assert len(summary["programs"]) == count == 5
    for fig in summary["programs"]:
        state = call(p.state(fig.program_id))
        assert fig.funded == state[FUNDED] and fig.rolled_in == state[ROLLED_IN]
        assert fig.paid == state[PAID]
        # the contract books what a close hands on, returned or rolled over, as `returned`
        assert fig.returned + fig.rolled_over == state[RETURNED]
        assert fig.issued == state[ISSUED]  # face value 1 fen a unit
        assert fig.redeemed == state[REDEEMED]
        assert fig.revoked == state[REVOKED] and fig.expired == state[EXPIRED]
        assert fig.escrowed == call(p.escrowed(fig.program_id))
        assert fig.outstanding == call(p.outstandingValue(fig.program_id))
    totals = summary["totals"]
    assert totals.redeemed == sum(call(p.state(i))[REDEEMED] for i in range(1, count + 1))
    assert totals.services == year.clean + 12 == len(year.settled)
    assert totals.enterprises == 10 and totals.institutions == 5
    assert [r.region for r in summary["regions"]] == [BEIJING, SHANGHAI, ZHEJIANG]
    assert [r.enterprises for r in summary["regions"]] == [
        3,
        3,
        4,
    ]  # the shell company was issued nothing
    assert sum(r.redeemed for r in summary["regions"]) == totals.redeemed


def test_close_expiry_return_rollover_and_revocation_equal_the_chain(year: Year) -> None:
    """The end of the budget cycle: Shanghai's program closed with its escrow returned to its
    finance bureau, Zhejiang's rolled into its 2027 program, a revocation in Beijing's — each
    figure equals the contracts' state, the close receipts' events and the money that moved."""
    world, programs = year.world, year.planted["programs"]
    p, w = world.p.programs, world
    with year.sessions() as s:
        figs = {f.program_id: f for f in reports.summary_report(s)["programs"]}
        totals = reports.summary_report(s)["totals"]
    shanghai, zhejiang, beijing = programs[SHANGHAI], programs[ZHEJIANG], programs[BEIJING]
    next_year = year.planted["next_year"]
    assert set(year.closed) == {shanghai, zhejiang}
    for pid, receipt in year.closed.items():
        state = call(p.functions.state(pid))
        assert state[1] is True  # closed
        [closed] = w.events(receipt, p, "ProgramClosed")
        expired = sum(e["args"]["units"] for e in w.events(receipt, p, "VouchersExpired"))
        assert expired == closed["args"]["expiredUnits"] == state[EXPIRED] == figs[pid].expired > 0
        assert closed["args"]["remainingEscrow"] == state[RETURNED] > 0
        assert figs[pid].escrowed == figs[pid].outstanding == 0
        assert _holders(year, pid) and all(w.vouchers(v, pid) == 0 for v in _holders(year, pid))
    # Shanghai: back to finance — its bureau funded everything it was given, so its balance
    # now is exactly what came back
    [back] = w.events(year.closed[shanghai], p, "BudgetReturned")
    assert back["args"]["amount"] == figs[shanghai].returned == _state_of(year, shanghai, RETURNED)
    assert figs[shanghai].rolled_over == 0
    assert w.balance(year.finance[shanghai]) == figs[shanghai].returned
    # Zhejiang: rolled over, the money never left the contract
    [rolled] = w.events(year.closed[zhejiang], p, "BudgetRolledOver")
    assert rolled["args"]["targetId"] == next_year
    amount = rolled["args"]["amount"]
    assert amount == figs[zhejiang].rolled_over == _state_of(year, zhejiang, RETURNED)
    assert (
        figs[zhejiang].returned == 0 and w.events(year.closed[zhejiang], p, "BudgetReturned") == []
    )
    assert figs[next_year].rolled_in == amount == _state_of(year, next_year, ROLLED_IN)
    assert figs[next_year].budget == figs[next_year].escrowed == amount
    assert call(p.functions.escrowed(next_year)) == amount
    assert w.balance(year.finance[zhejiang]) == 0
    # Beijing: one revocation, nothing expired, still open
    [revoked] = w.events(year.revoked[0], p, "VouchersRevoked")
    assert revoked["args"]["programId"] == beijing
    assert figs[beijing].revoked == revoked["args"]["units"] == _state_of(year, beijing, REVOKED)
    assert figs[beijing].expired == 0 and call(p.functions.state(beijing))[1] is False
    assert totals.revoked == revoked["args"]["units"]
    assert totals.expired == figs[shanghai].expired + figs[zhejiang].expired
    assert totals.returned == figs[shanghai].returned and totals.rolled_over == amount


def _state_of(year: Year, pid: int, index: int) -> int:
    return int(call(year.world.p.programs.functions.state(pid))[index])


def _holders(year: Year, pid: int) -> list[str]:
    """Enterprises the scene's issuance receipts gave vouchers of ``pid`` to, as accounts."""
    p, registry = year.world.p.programs, year.world.p.registry
    out = []
    for receipt in year.issued:
        for e in year.world.events(receipt, p, "VouchersIssued"):
            if e["args"]["programId"] == pid:
                out.append(call(registry.functions.vaultOf(e["args"]["enterpriseOrg"])))
    return out


def test_every_planted_anomaly_is_flagged_and_nothing_else(
    year: Year,
) -> None:
    sessions, planted = year.sessions, year.planted
    with sessions() as s:
        found = anomalies.detect(s)
    by_rule: dict[str, list[anomalies.Anomaly]] = {}
    for a in found:
        by_rule.setdefault(a.rule, []).append(a)
    assert sorted(by_rule) == [
        "concentration",
        "fast_confirmation",
        "price_above_catalogue",
        "price_above_peers",
        "round_trip",
        "split_orders",
    ], [a.explanation for a in found]
    [fast] = by_rule["fast_confirmation"]
    assert fast.orders == [planted["fast"]] and "¥20,000.00" in fast.explanation
    [split] = by_rule["split_orders"]
    assert split.orders == planted["split"] and "¥5,000.00" in split.explanation
    [dear] = by_rule["price_above_peers"]
    assert dear.orders == [planted["dear"]] and "5.0×" in dear.explanation
    trips = {tuple(a.orgs): a for a in by_rule["round_trip"]}
    assert sorted(trips) == sorted([planted["round_trip"], planted["affiliate_trip"]])
    trip = trips[planted["round_trip"]]
    assert trip.subject == "institution {} ↔ enterprise {}".format(*planted["round_trip"])
    assert "sent ¥25,000.00 back: 50%" in trip.explanation
    inst, client, shell = planted["affiliate_trip"]
    via = trips[planted["affiliate_trip"]]
    assert via.subject == f"institution {inst} ↔ enterprise {client}"
    assert via.numbers == {"paid": 10_000 * YUAN, "returned": 4_000 * YUAN, "share": 0.4}
    assert (
        f"sent ¥4,000.00 back (organisation {shell}, which shares enterprise {client}'s declared "
        "affiliation): 40%" in via.explanation
    )
    [catalogue] = by_rule["price_above_catalogue"]
    order, service, inst = planted["catalogue"]
    assert catalogue.subject == f"order {order}"
    assert catalogue.orders == [order] and catalogue.orgs == [inst]
    assert catalogue.numbers == {"unit_price": 20_000 * YUAN, "listed_price": 10_000 * YUAN}
    assert (
        f"service {service} was listed at ¥10,000.00 and charged ¥20,000.00 (2.0×"
        in catalogue.explanation
    )
    [concentrated] = by_rule["concentration"]
    program, inst = planted["concentration"]
    assert concentrated.subject == f"program {program}" and concentrated.orgs == [inst]
    assert concentrated.numbers == {
        "share": 0.6,
        "institution_paid": 15_000 * YUAN,
        "program_redeemed": 25_000 * YUAN,
    }
    assert (
        f"Institution {inst} received ¥15,000.00 of the ¥25,000.00 redeemed under program "
        f"{program} (60.0%" in concentrated.explanation
    )
    assert "while 3 institutions were paid" in concentrated.explanation


def test_clean_programs_were_tested_by_the_concentration_rule(
    year: Year,
) -> None:
    """The clean programs pass the concentration rule's preconditions (enough institutions,
    enough money), so its silence on them is a result, not a skipped check."""
    sessions, planted = year.sessions, year.planted
    config = load_config()
    with sessions() as s:
        rows = s.execute(select(EventRow.args).where(EventRow.name == "VouchersRedeemed"))
        paid: dict[int, dict[int, int]] = {}
        for (args,) in rows:
            a = from_json(args)
            by_inst = paid.setdefault(int(a["programId"]), {})
            by_inst[int(a["institutionOrg"])] = by_inst.get(int(a["institutionOrg"]), 0) + int(
                a["value"]
            )
    for program in planted["programs"].values():
        by_inst = paid[program]
        assert len(by_inst) >= config.concentration_min_institutions
        assert sum(by_inst.values()) >= config.concentration_min_redeemed
        assert max(by_inst.values()) / sum(by_inst.values()) <= config.concentration_share


def test_verify_passes_then_catches_a_tampered_row(
    year: Year,
) -> None:
    world, sessions, planted = year.world, year.sessions, year.planted
    with sessions() as s:
        verdict = verify(s, world.p)
        assert latest_state_reads(s) == []  # the embedded node keeps every block's state
    assert verdict.ok, verdict.problems
    assert verdict.notes == []
    pid = planted["programs"][SHANGHAI]
    with sessions.begin() as s:
        s.execute(
            update(ProgramRow).where(ProgramRow.program_id == pid).values(paid=ProgramRow.paid + 1)
        )
    try:
        with sessions() as s:
            verdict = verify(s, world.p)
        assert not verdict.ok
        assert any(f"program {pid} paid: index table" in p for p in verdict.problems), (
            verdict.problems
        )
    finally:
        with sessions.begin() as s:
            s.execute(
                update(ProgramRow)
                .where(ProgramRow.program_id == pid)
                .values(paid=ProgramRow.paid - 1)
            )


def test_periods_partition_the_flows_and_months_add_up(
    year: Year,
) -> None:
    sessions = year.sessions
    with sessions() as s:
        whole = reports.summary_report(s)["totals"]
        months = reports.monthly_report(s)
        first = s.scalar(select(func.min(OrderRow.settled_at)))
        assert first is not None
        mid = first + 60 * DAY
        before = reports.summary_report(s, reports.Filters(until=mid))["totals"]
        after = reports.summary_report(s, reports.Filters(since=mid))["totals"]
        shanghai = reports.summary_report(s, reports.Filters(region=SHANGHAI))["totals"]
        flows = reports.flow_report(s)
    assert 0 < before.redeemed < whole.redeemed
    assert before.redeemed + after.redeemed == whole.redeemed
    assert before.services + after.services == whole.services
    assert sum(m["used"] for m in months) == whole.redeemed
    assert sum(m["issued"] for m in months) == whole.issued
    assert len({m["month"] for m in months}) >= 5
    assert shanghai.programs == 1 and shanghai.redeemed < whole.redeemed
    assert sum(f["voucher_paid"] for f in flows) == whole.redeemed
    assert any(f["issuer_region"] != f["institution_region"] for f in flows)  # cross-region use

"""The source document's story, played on an in-process chain: `voucher-chain demo`.

Regions issue vouchers under their own rules; a Changxing county firm spends its vouchers at a
Shanghai testing platform and the platform is paid in the very transaction that confirms
delivery; Beijing's vouchers are refused there; a closed program hands its unused budget back.
"""

from __future__ import annotations

from collections.abc import Callable

from voucher_chain.contracts import Category, OrgKind, call
from voucher_chain.errors import ContractRevert
from voucher_chain.sandbox import (
    BEIJING,
    CHANGXING,
    DAY,
    SHANGHAI,
    SHANGHAI_PUDONG,
    YUAN,
    World,
    sandbox,
)

__all__ = ["run_demo"]


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def run_demo(out: Callable[[str], None] = print, world: World | None = None) -> World:
    """Plays the story, reporting each step through ``out``; returns the world it ran in."""
    w = world or sandbox()
    out(f"Protocol deployed on an in-process py-evm chain (block {w.w3.eth.block_number}).")
    for name, address in w.p.addresses().items():
        out(f"  {name:<20} {address}")

    beijing, beijing_fin = w.issuer(BEIJING), w.finance(BEIJING)
    shanghai, shanghai_fin = w.issuer(SHANGHAI), w.finance(SHANGHAI)
    changxing, changxing_fin = w.issuer(CHANGXING), w.finance(CHANGXING)
    out("Registered issuers and finance bureaus of Beijing, Shanghai and Changxing county.")

    bj_program = w.program(
        beijing,
        beijing_fin,
        budget=2_000_000 * YUAN,
        face_value=5_000 * YUAN,
        min_units=1,
        max_units=40,
        spend_regions=(BEIJING,),
        eligible_regions=(BEIJING,),
    )
    sh_program = w.program(
        shanghai,
        shanghai_fin,
        budget=5_000_000 * YUAN,
        per_holder_cap=100_000 * YUAN,
        spend_regions=(SHANGHAI,),
        eligible_regions=(SHANGHAI,),
    )
    cx_program = w.program(
        changxing,
        changxing_fin,
        budget=500_000 * YUAN,
        per_holder_cap=50_000 * YUAN,
        spend_regions=(CHANGXING, SHANGHAI),
        eligible_regions=(CHANGXING,),
    )
    out(
        f"Programs: Beijing #{bj_program} (¥5,000 vouchers, 1–40 per order), "
        f"Shanghai #{sh_program} (quota, ¥100,000 cap), "
        f"Changxing #{cx_program} (quota, usable in Changxing and Shanghai); "
        "vouchers pay at most 50% of any price."
    )

    bj_firm = w.enterprise(BEIJING, employees=15)
    cx_firm = w.enterprise(CHANGXING, employees=8)
    team = w.enterprise(SHANGHAI, employees=4, kind=OrgKind.STARTUP_TEAM)
    platform = w.institution(SHANGHAI_PUDONG)
    out(
        "Registered a Beijing firm, a Changxing firm, a Shanghai start-up team and a Shanghai "
        "testing platform."
    )

    w.issue(beijing, bj_program, bj_firm, 4)
    w.issue(changxing, cx_program, cx_firm, 30_000 * YUAN)
    w.issue(shanghai, sh_program, team, 100_000 * YUAN)
    w.deposit(cx_firm, 30_000 * YUAN)
    w.deposit(bj_firm, 20_000 * YUAN)
    out(
        f"Issued: Beijing firm {w.vouchers(bj_firm, bj_program)} vouchers of ¥5,000; "
        f"Changxing firm {_yuan(w.vouchers(cx_firm, cx_program))} quota."
    )

    service = w.list_service(platform, Category.TESTING, 60_000 * YUAN)
    order = w.place(cx_firm, service, cx_program, 30_000 * YUAN, 30_000 * YUAN)
    out(f"Changxing firm ordered a ¥60,000 test in Shanghai: order #{order}, ¥30,000 in vouchers.")
    w.deliver(platform, order)
    before = w.balance(platform)
    receipt = w.send(w.p.orders.functions.confirm(order), cx_firm)
    paid = w.balance(platform) - before
    out(
        f"Delivery confirmed in block {receipt['blockNumber']}: the platform was paid "
        f"{_yuan(paid)} in that same transaction."
    )

    try:
        w.place(bj_firm, service, bj_program, 2, 50_000 * YUAN)
    except ContractRevert as refused:
        out(f"Beijing vouchers at the Shanghai platform refused: {refused.message}")

    w.travel(331 * DAY)
    escrowed = int(call(w.p.programs.functions.escrowed(cx_program)))
    w.send(w.p.programs.functions.close(cx_program), changxing)
    out(
        f"After the settlement deadline Changxing closed its program: {_yuan(escrowed)} of "
        "unused budget went back to its finance bureau at once."
    )
    out(
        "This demo ran on a throwaway in-process chain. `make run` starts the persistent node "
        "and the API, with demo data."
    )
    return w

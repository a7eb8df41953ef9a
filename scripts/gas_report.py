"""Gas per protocol operation, measured on the in-process py-evm chain (`scripts/gas_report`).

Prints a Markdown table (the content of docs/gas.md). Each figure is the gasUsed of one real
transaction in a representative flow; deployments are the contracts' creation transactions.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from typing import cast

from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxReceipt

from voucher_chain.contracts import PROTOCOL_CONTRACTS, Category, OrgKind
from voucher_chain.contracts.deploy import deploy_protocol
from voucher_chain.sandbox import DAY, SHANGHAI, YUAN, World, in_process_chain


def measure() -> list[tuple[str, int]]:
    rows: list[tuple[str, int]] = []
    tester, w3 = in_process_chain(accounts=20)
    governor = w3.eth.accounts[0]
    start = w3.eth.block_number
    protocol = deploy_protocol(w3, governor, governor_credit_code_hash=Web3.keccak(text="GOV"))
    # Deployment transactions are the first len(PROTOCOL_CONTRACTS) after `start`.
    for offset, name in enumerate(PROTOCOL_CONTRACTS, start=1):
        tx_hash = cast(HexBytes, w3.eth.get_block(start + offset)["transactions"][0])
        receipt = w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["contractAddress"] is not None, name
        rows.append((f"deploy {name}", receipt["gasUsed"]))
    w = World(tester=tester, w3=w3, protocol=protocol)

    def record(label: str, receipt: TxReceipt) -> None:
        rows.append((label, receipt["gasUsed"]))

    code = Web3.keccak(text="91310000MA1FL0001X")
    issuer = w.issuer(SHANGHAI)
    account = w.new_account()
    record(
        "register organisation (enterprise)",
        w.send(
            w.p.registry.functions.registerOrganisation(
                int(OrgKind.ENTERPRISE), SHANGHAI, code, 20, 6510, b"\x00" * 32, account
            ),
            w.governor,
        ),
    )
    ent = w.enterprise(SHANGHAI)
    finance = w.finance(SHANGHAI)
    inst = w.institution(SHANGHAI)
    terms = w.terms(finance, per_holder_cap=100_000 * YUAN, spend_regions=(SHANGHAI,))
    record("create program", w.send(w.p.programs.functions.createProgram(terms.as_abi()), issuer))
    program_id = 1
    w.deposit(finance, 1_000_000 * YUAN)
    record(
        "fund program (escrow budget)",
        w.send(w.p.programs.functions.fund(program_id, 1_000_000 * YUAN), finance),
    )
    record(
        "apply for vouchers",
        w.send(
            w.p.programs.functions.applyForVouchers(program_id, 10_000 * YUAN, w.request_id()), ent
        ),
    )
    record(
        "approve application (first issuance to a holder)",
        w.send(w.p.programs.functions.approveApplication(1), issuer),
    )
    record(
        "issue vouchers directly (to an existing holder)",
        w.issue(issuer, program_id, ent, 10_000 * YUAN),
    )
    service_fn = w.p.catalogue.functions.listService(
        int(Category.TESTING), 20_000 * YUAN, "EMC test"
    )
    record("list service", w.send(service_fn, inst))
    w.deposit(ent, 10_000 * YUAN)
    place = w.p.orders.functions.placeOrder(
        1, 1, program_id, 10_000 * YUAN, 10_000 * YUAN, w.request_id()
    )
    record("place order (vouchers + own funds escrowed)", w.send(place, ent))
    record("accept order", w.send(w.p.orders.functions.accept(1), inst))
    record(
        "deliver (deliverable hash)",
        w.send(w.p.orders.functions.deliver(1, Web3.keccak(text="report")), inst),
    )
    record(
        "confirm + settle (burn, pay escrow, release own funds)",
        w.send(w.p.orders.functions.confirm(1), ent),
    )
    w.travel(331 * DAY)
    record(
        "close program (1 holder expired, escrow returned)",
        w.send(w.p.programs.functions.close(program_id), issuer),
    )
    return rows


def main() -> int:
    rows = measure()
    print(
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()} "
        f"({os.cpu_count()} cores), Python {platform.python_version()}, py-evm (Prague rules)."
    )
    print()
    print("| operation | gas |")
    print("|---|---:|")
    for label, gas in rows:
        print(f"| {label} | {gas:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

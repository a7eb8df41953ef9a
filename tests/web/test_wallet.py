"""The enterprise wallet, end to end with the institution console: an order whose voucher /
own-fund split is computed in the browser from the program's terms, accepted and delivered (the
deliverable hashed in the browser), confirmed — the institution paid in that transaction — and
the history with each step's transaction; refused orders show the API's reason."""

from __future__ import annotations

import csv
import hashlib
import re

import pytest
from playwright.sync_api import FilePayload, Page, expect

from tests.web.conftest import (
    System,
    flash_text,
    login_api_key,
    open_order_form,
    shot,
    tab,
)

YUAN = 100
PUDONG = "Pudong biochip"
PLATFORM = "Shanghai R&D public testing platform"


def _order_id(message: str) -> int:
    found = re.search(r"(?:Order|订单) (\d+)", message)
    assert found, message
    return int(found.group(1))


def test_order_split_delivery_confirmation_and_payment(page: Page, system: System) -> None:
    shanghai = system.demo.programs["shanghai"]
    login_api_key(page, "wallet", system.login(PUDONG).api_key)
    expect(page.locator(f"tr[data-program='{shanghai}']")).to_contain_text("¥100,000.00")
    shot(page, "wallet-vouchers")

    tab(page, "catalogue")
    page.select_option("#filter-category", "0")  # testing
    page.select_option("#filter-region", "310000")
    page.click("#filter-apply")
    expect(page.locator("#services")).to_contain_text("EMC and reliability testing")
    expect(page.locator("#services")).not_to_contain_text("Materials characterisation")  # Beijing
    open_order_form(page, "EMC and reliability testing", shanghai)
    split = page.locator("#order-split")
    expect(split.locator("[data-field=price]")).to_have_text("¥60,000.00")
    expect(split.locator("[data-field=cap]")).to_have_text("¥30,000.00")
    expect(split.locator("[data-field=own]")).to_have_text("¥30,000.00")
    shot(page, "wallet-order-split")
    page.click("#order-submit")
    order_id = _order_id(flash_text(page))
    with system.http(PUDONG) as http:
        order = http.get(f"/orders/{order_id}").json()
    assert (order["voucher_value"], order["own_funds"]) == (30_000 * YUAN, 30_000 * YUAN)

    # the institution accepts and delivers; the deliverable's SHA-256 is computed in the browser
    login_api_key(page, "institution", system.login(PLATFORM).api_key)
    tab(page, "incoming")
    row = page.locator(f"tr[data-order='{order_id}']")
    row.locator("button[data-action=accept]").click()
    assert f"{order_id}" in flash_text(page)
    report = b"%PDF-1.4 EMC test report for order " + str(order_id).encode()
    row = page.locator(f"tr[data-order='{order_id}']")
    upload: FilePayload = {
        "name": "emc-report.pdf",
        "mimeType": "application/pdf",
        "buffer": report,
    }
    row.locator("input[type=file]").set_input_files(files=[upload])
    digest = "0x" + hashlib.sha256(report).hexdigest()
    expect(row.locator("[data-field=hash]")).to_have_text(digest)
    shot(page, "institution-deliver")
    row.locator("button[data-action=deliver]").click()
    assert digest in flash_text(page)
    with system.http(PLATFORM) as http:
        assert http.get(f"/orders/{order_id}").json()["deliverable_hash"] == digest

    # the enterprise confirms: the institution is paid in that same transaction
    login_api_key(page, "wallet", system.login(PUDONG).api_key)
    tab(page, "orders")
    row = page.locator(f"tr[data-order='{order_id}']")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "delivered")
    row.locator("button[data-action=confirm]").click()
    message = flash_text(page)
    paid_tx = re.search(r"0x[0-9a-f]{64}", message)
    assert paid_tx, message
    row = page.locator(f"tr[data-order='{order_id}']")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "settled")
    row.locator("button[data-action=steps]").click()
    steps = row.locator("ol.steps li")
    expect(steps).to_have_count(4)
    expect(steps.nth(3)).to_contain_text("Settled")
    assert steps.nth(3).locator(".tx").get_attribute("data-tx") == paid_tx.group(0)
    for i in range(4):
        assert re.fullmatch(
            r"0x[0-9a-f]{64}", steps.nth(i).locator(".tx").get_attribute("data-tx") or ""
        )
    shot(page, "wallet-orders")
    tab(page, "history")
    expect(page.locator("main table")).to_contain_text("redeemed")
    shot(page, "wallet-history")

    # the institution sees the payment, its latency, and exports the statement
    login_api_key(page, "institution", system.login(PLATFORM).api_key)
    tab(page, "payments")
    row = page.locator(f"tr[data-order='{order_id}']")
    expect(row).to_contain_text("¥30,000.00")
    latency = int((row.locator("[data-field=latency]").inner_text()).split()[0])
    assert 0 <= latency < 300
    shot(page, "institution-payments")
    with page.expect_download() as download:
        page.click("#export-csv")
    with open(download.value.path(), newline="") as handle:
        rows = list(csv.DictReader(handle))
    mine = next(r for r in rows if r["order_id"] == str(order_id))
    assert mine["tx_hash"] == paid_tx.group(0)
    assert int(mine["total_fen"]) == 60_000 * YUAN


REFUSALS = [
    pytest.param(
        PUDONG,
        "testing_only",
        "Certification consulting",
        None,
        "does not pay for services of category",
        id="wrong-category",
    ),
    pytest.param(
        PUDONG,
        "shanghai",
        "EMC and reliability testing",
        4_000_000,
        "Vouchers may pay at most ¥30,000.00",
        id="exceeded-share",
    ),
    pytest.param(
        "Zhongguancun micro-sensor",
        "beijing",
        "EMC and reliability testing",
        1,
        "cannot be spent at an institution in region 310115",
        id="cross-region",
    ),
]


@pytest.mark.parametrize(("firm", "program", "service", "units", "expected"), REFUSALS)
def test_a_refused_order_shows_the_apis_reason(
    page: Page,
    system: System,
    firm: str,
    program: str,
    service: str,
    units: int | None,
    expected: str,
) -> None:
    programs = {**system.demo.programs, **system.programs}
    login_api_key(page, "wallet", system.login(firm).api_key)
    with system.http(firm) as http:
        before = http.get("/orders").json()["count"]
    open_order_form(page, service, programs[program])
    if units is not None:
        page.fill("#order-units", str(units))
    page.click("#order-submit")
    assert expected in flash_text(page, "error")
    shot(page, f"wallet-refused-{program}")
    with system.http(firm) as http:
        assert http.get("/orders").json()["count"] == before  # nothing was placed


def test_the_refusal_is_translated(page: Page, system: System) -> None:
    login_api_key(page, "wallet", system.login(PUDONG).api_key)
    page.click("button[data-action=lang]")
    expect(page.locator("header h1")).to_have_text("企业钱包")
    open_order_form(page, "Certification consulting", system.programs["testing_only"])
    expect(page.locator("#order-split .warn")).to_contain_text("该项目不支持此服务类别")
    page.click("#order-submit")
    program = system.programs["testing_only"]
    assert f"项目 {program} 不支持“技术咨询”类服务" in flash_text(page, "error")
    shot(page, "wallet-refused-zh")
    page.click("button[data-action=lang]")

"""The regulator dashboard over the audit index: charts drawn from /audit reports (their figures
equal the API's), the anomaly list with explanations, the explorer, CSV and signed exports."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.conftest import System, flash_text, login_api_key, shot, tab

REGULATOR = "National innovation-voucher audit office"
#: a chart's data-ready: how many data points it drew
POSITIVE = re.compile(r"^[1-9]\d*$")
CHARTS = ("chart-monthly", "chart-usage", "chart-flows", "chart-categories", "chart-latency")


def _yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def test_charts_show_the_audit_reports(page: Page, system: System) -> None:
    login_api_key(page, "regulator", system.login(REGULATOR).api_key)
    for chart in CHARTS:  # every chart drew at least one data point
        expect(page.locator(f"#{chart}")).to_have_attribute("data-ready", POSITIVE)
    with system.http(REGULATOR) as http:
        summary = http.get("/audit/reports/summary").json()
        flows = http.get("/audit/reports/flows").json()["data"]
    totals = summary["totals"]
    expect(page.locator("[data-figure=redeemed] strong")).to_have_text(_yuan(totals["redeemed"]))
    expect(page.locator("[data-figure=issued] strong")).to_have_text(_yuan(totals["issued"]))
    # the Changxing firm's test at the Shanghai platform is a cross-region flow
    assert any(f["issuer_region"] == 330000 and f["institution_region"] == 310000 for f in flows)
    expect(page.locator("main table")).to_contain_text("Zhejiang")
    shot(page, "regulator-overview")

    page.select_option("#filter-region", "310000")
    expect(page.locator("#chart-usage")).to_have_attribute("data-ready", POSITIVE)
    with system.http(REGULATOR) as http:
        shanghai = http.get("/audit/reports/summary?region=310000").json()["totals"]
    expect(page.locator("[data-figure=issued] strong")).to_have_text(_yuan(shanghai["issued"]))
    assert shanghai["issued"] < totals["issued"]


def test_anomalies_explorer_and_exports(page: Page, system: System, tmp_path: Path) -> None:
    login_api_key(page, "regulator", system.login(REGULATOR).api_key)
    with system.http(REGULATOR) as http:
        found = http.get("/audit/anomalies").json()
        blocks = http.get("/audit/blocks?limit=5").json()["data"]
    tab(page, "anomalies")
    # the demo's two settled orders were confirmed seconds after they were placed
    fast = [a for a in found["data"] if a["rule"] == "fast_confirmation"]
    assert {a["subject"] for a in fast} >= {"order 1", "order 2"}
    rows = page.locator("tr[data-rule=fast_confirmation]")
    expect(rows.first).to_be_visible()
    for anomaly in fast:
        expect(page.locator("main table")).to_contain_text(anomaly["explanation"])
    shot(page, "regulator-anomalies")

    tab(page, "explorer")
    busy = next(b for b in blocks if b["tx_count"])
    page.click(f"button[data-block='{busy['number']}']")
    expect(page.locator("#explorer-detail h3")).to_contain_text(str(busy["number"]))
    expect(page.locator("#explorer-detail [data-event]").first).to_be_visible()
    tx_hash = page.locator("#explorer-detail li[data-tx]").first.get_attribute("data-tx")
    assert tx_hash
    page.fill("#tx-search", tx_hash)
    page.click("form.filters button")
    expect(page.locator(f"#explorer-detail li[data-tx='{tx_hash}']")).to_be_visible()
    shot(page, "regulator-explorer")
    page.fill("#tx-search", "0x" + uuid.uuid4().hex * 2)
    page.click("form.filters button")
    assert "no indexed transaction" in flash_text(page, "error")

    tab(page, "exports")
    with page.expect_download() as csv_download:
        page.click("button[data-export=monthly]")
    header = Path(csv_download.value.path()).read_text().splitlines()[0]
    assert "region" in header and "usage_rate" in header
    with page.expect_download() as signed_download:
        page.click("#signed-export")
    export = json.loads(Path(signed_download.value.path()).read_text())
    assert export["signature"].startswith("0x") and export["document"]["anchor"]["block"] > 0
    assert export["signer"] == system.login(REGULATOR).account
    shot(page, "regulator-exports")

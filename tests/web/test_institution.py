"""The institution console: its accredited categories and services, listing a new one."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.web.conftest import System, flash_text, login_api_key, shot

PLATFORM = "Wenling pump & motor innovation platform"


def test_a_service_is_listed_at_a_price_in_yuan(page: Page, system: System) -> None:
    login_api_key(page, "institution", system.login(PLATFORM).api_key)
    expect(page.locator("#accredited")).to_contain_text("Novelty search")
    page.select_option("#service-category", "0")
    page.fill("#service-name", "Motor failure analysis")
    page.fill("#service-price", "12,000.50")
    page.click("#service-form button[type=submit]")
    flash_text(page)
    row = page.locator("tr", has_text="Motor failure analysis")
    expect(row).to_contain_text("¥12,000.50")
    shot(page, "institution-services")
    with system.http(PLATFORM) as http:
        org = system.login(PLATFORM).org_id
        listed = http.get(f"/services?institution_org={org}").json()["data"]
    assert any(s["name"] == "Motor failure analysis" and s["price"] == 1_200_050 for s in listed)
    row.locator("input[data-field=price]").fill("13000")
    row.locator("button[data-action=reprice]").click()
    assert "¥13,000.00" in flash_text(page)
    expect(row).to_contain_text("¥13,000.00")
    row.locator("button[data-action=withdraw]").click()
    flash_text(page)
    expect(row).to_contain_text("withdrawn")
    with system.http(PLATFORM) as http:
        listed = http.get(f"/services?institution_org={org}").json()["data"]
    assert not any(s["name"] == "Motor failure analysis" for s in listed)  # out of the catalogue
    page.fill("#service-price", "twelve")
    page.fill("#service-name", "Bad price")
    page.click("#service-form button[type=submit]")
    assert "price in yuan" in flash_text(page, "error")


def test_an_incoming_order_is_rejected_and_refunded(page: Page, system: System) -> None:
    firm = "Hangzhou smart-devices"
    with system.http(firm) as http:
        consulting = next(
            s
            for s in http.get("/services?region=331081").json()["data"]
            if s["name"] == "Energy-efficiency consulting"
        )
        before = http.get("/vouchers").json()["data"]
        placed = http.post(
            "/orders",
            json={
                "service_id": consulting["id"],
                "program_id": system.demo.programs["national"],
                "units": consulting["price"] // 2,
                "own_funds": consulting["price"] // 2,
            },
            headers={"Idempotency-Key": "web-reject"},
        )
        assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    login_api_key(page, "institution", system.login(PLATFORM).api_key)
    page.click("nav.tabs button[data-tab=incoming]")
    row = page.locator(f"tr[data-order='{order_id}']")
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "placed")
    shot(page, "institution-incoming")
    row.locator("button[data-action=reject]").click()
    assert str(order_id) in flash_text(page)
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "rejected")
    with system.http(firm) as http:
        assert http.get("/vouchers").json()["data"] == before  # the vouchers came back

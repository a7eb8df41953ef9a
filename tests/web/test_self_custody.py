"""Self-custody in the wallet: the organisation's key is imported into the browser, kept there
encrypted (a JSON keystore in localStorage), unlocked with its password to sign the login
challenge, and every step is an EIP-712 ForwardRequest signed in the browser and relayed."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.web.conftest import System, flash_text, open_order_form, shot, tab

PASSWORD = "correct horse battery staple"
REGULATOR = "National innovation-voucher audit office"


def test_key_in_the_browser_logs_in_applies_and_orders_through_the_relay(
    page: Page, system: System
) -> None:
    shanghai = system.demo.programs["shanghai"]
    page.goto("/app/wallet/")
    page.fill("#import-secret", "0x" + system.self_custody_key.removeprefix("0x"))
    page.fill("#import-password", PASSWORD)
    page.click("#key-import button[type=submit]")
    address = re.search(r"0x[0-9a-fA-F]{40}", flash_text(page))
    assert address, "the stored key's address is shown"
    stored = page.evaluate("() => Object.entries(localStorage)")
    [(_, keystore)] = [(k, v) for k, v in stored if k.startswith("vc.keystore.")]
    assert system.self_custody_key.removeprefix("0x") not in keystore.lower()
    crypto = {k.lower(): v for k, v in json.loads(keystore).items()}["crypto"]
    assert crypto["kdf"] == "scrypt" and crypto["ciphertext"]
    shot(page, "wallet-login")

    page.reload()  # the key survives, encrypted; it must be unlocked with its password
    page.fill("#key-password", "not the password")
    page.click("#key-unlock button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("password")
    page.fill("#key-password", PASSWORD)
    page.click("#key-unlock button[type=submit]")
    page.wait_for_selector("nav.tabs button.active")
    expect(page.locator("header .who")).to_contain_text(f"#{system.self_custody_org}")

    page.select_option("#apply-program", str(shanghai))
    page.fill("#apply-units", "500000")
    page.click("#apply-form button[type=submit]")
    assert re.search(r"0x[0-9a-f]{64}", flash_text(page)), "the relayed transaction is shown"
    with system.http("Shanghai S&T") as issuer:
        pending = issuer.get("/applications?status=pending").json()["data"]
        [mine] = [a for a in pending if a["enterprise_org"] == system.self_custody_org]
        assert mine["units"] == 500_000
        approved = issuer.post(
            f"/applications/{mine['id']}/approve", headers={"Idempotency-Key": "sc"}
        )
        assert approved.status_code == 200, approved.text

    # ¥8,000 consulting: vouchers may pay half (¥4,000 = 400,000 units), own funds the rest
    open_order_form(page, "Certification consulting", shanghai)
    expect(page.locator("#order-split [data-field=own]")).to_have_text("¥4,000.00")
    page.click("#order-submit")
    assert re.search(r"0x[0-9a-f]{64}", flash_text(page))
    with system.http(REGULATOR) as regulator:
        orders = regulator.get("/orders?limit=500").json()["data"]
    [order] = [o for o in orders if o["enterprise_org"] == system.self_custody_org]
    assert (order["voucher_value"], order["own_funds"], order["units"]) == (
        400_000,
        400_000,
        400_000,
    )
    tab(page, "orders")
    expect(page.locator(f"tr[data-order='{order['id']}'] [data-state]")).to_have_attribute(
        "data-state", "placed"
    )
    shot(page, "wallet-self-custody-orders")

"""The issuer console: approving applications (and a refusal at the holder cap), accrediting an
institution, resolving a dispute the enterprise opened in its wallet, closing a program."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.web.conftest import (
    System,
    flash_text,
    login_api_key,
    shot,
    tab,
    wait_until_chain_time,
)

ISSUER = "Shanghai S&T"
MINHANG = "Minhang precision machinery"
PLATFORM = "Shanghai R&D public testing platform"
YUAN = 100


def _post(system: System, who: str, path: str, body: object = None) -> dict[str, object]:
    with system.http(who) as http:
        response = http.post(path, json=body or {}, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code in (200, 201), response.text
    result: dict[str, object] = response.json()
    return result


def test_applications_are_approved_or_rejected(page: Page, system: System) -> None:
    shanghai = system.demo.programs["shanghai"]
    ok = _post(system, MINHANG, "/applications", {"program_id": shanghai, "units": 1_000_000})
    no = _post(system, MINHANG, "/applications", {"program_id": shanghai, "units": 100})
    login_api_key(page, "issuer", system.login(ISSUER).api_key)
    tab(page, "applications")
    shot(page, "issuer-applications")
    page.locator(f"tr[data-application='{ok['id']}'] button[data-action=approve]").click()
    assert "¥10,000.00" in flash_text(page)
    expect(page.locator(f"tr[data-application='{ok['id']}']")).to_have_count(0)
    page.locator(f"tr[data-application='{no['id']}'] button[data-action=reject]").click()
    assert str(no["id"]) in flash_text(page)
    with system.http(ISSUER) as http:
        assert http.get(f"/applications/{ok['id']}").json()["status"] == "approved"
        assert http.get(f"/applications/{no['id']}").json()["status"] == "rejected"


def test_an_institution_is_accredited(page: Page, system: System) -> None:
    platform = system.login(PLATFORM).org_id
    login_api_key(page, "issuer", system.login(ISSUER).api_key)
    tab(page, "accreditation")
    page.fill("#accredit-org", str(platform))
    page.click("#accredit-load")
    novelty = page.locator("input[data-category='6']")
    expect(novelty).to_be_checked()
    novelty.uncheck()
    page.click("#accredit-form button[type=submit]")
    assert str(platform) in flash_text(page)
    shot(page, "issuer-accreditation")
    with system.http(PLATFORM) as http:
        assert http.get(f"/accreditations/{platform}").json()["categories"] == 0b0111111
    novelty.check()
    page.click("#accredit-form button[type=submit]")
    flash_text(page)
    with system.http(PLATFORM) as http:
        assert http.get(f"/accreditations/{platform}").json()["categories"] == 0b1111111


def test_a_dispute_opened_in_the_wallet_is_resolved_by_the_issuer(
    page: Page, system: System
) -> None:
    services = {s["name"]: s["id"] for s in _services(system)}
    order = _post(
        system,
        MINHANG,
        "/orders",
        {
            "service_id": services["Industrial design review"],
            "program_id": system.demo.programs["shanghai"],
            "units": 15_000 * YUAN,
            "own_funds": 15_000 * YUAN,
        },
    )
    _post(system, PLATFORM, f"/orders/{order['id']}/accept")
    _post(
        system, PLATFORM, f"/orders/{order['id']}/deliver", {"deliverable_hash": "0x" + "cd" * 32}
    )

    login_api_key(page, "wallet", system.login(MINHANG).api_key)
    tab(page, "orders")
    row = page.locator(f"tr[data-order='{order['id']}']")
    row.locator("input[data-field=reason]").fill("The design review misses the tolerance analysis")
    row.locator("button[data-action=dispute]").click()
    flash_text(page)
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "disputed")

    login_api_key(page, "issuer", system.login(ISSUER).api_key)
    tab(page, "disputes")
    row = page.locator(f"tr[data-order='{order['id']}']")
    row.locator("input[data-field=units]").fill(str(10_000 * YUAN))
    row.locator("input[data-field=own]").fill("5000")
    shot(page, "issuer-disputes")
    row.locator("button[data-action=resolve]").click()
    assert str(order["id"]) in flash_text(page)
    with system.http(ISSUER) as http:
        assert http.get(f"/orders/{order['id']}").json()["state"] == 8  # resolved
        steps = [s["step"] for s in http.get(f"/orders/{order['id']}/steps").json()]
    # the resolution pays the institution its share in the same transaction (OrderSettled)
    assert steps == ["Placed", "Accepted", "Delivered", "Disputed", "DisputeResolved", "Settled"]


def test_a_program_is_closed_after_its_deadline(page: Page, system: System) -> None:
    closable = system.programs["closable"]
    login_api_key(page, "issuer", system.login(ISSUER).api_key)
    tab(page, "programs")
    row = page.locator(f"tr[data-program='{closable}']")
    expect(row.locator("[data-field=escrowed]")).to_have_text("¥10,000.00")
    wait_until_chain_time(system, system.closable_at)
    tab(page, "accreditation")
    tab(page, "programs")
    row = page.locator(f"tr[data-program='{closable}']")
    row.locator("button[data-action=close]").click()
    assert str(closable) in flash_text(page)
    row = page.locator(f"tr[data-program='{closable}']")
    expect(row.locator("[data-field=closed]")).to_be_visible()
    expect(row.locator("[data-field=escrowed]")).to_have_text("¥0.00")
    shot(page, "issuer-programs")
    with system.http(ISSUER) as http:
        budget = http.get(f"/programs/{closable}/status").json()
    assert budget["closed"] and budget["returned"] == budget["funded"] == 10_000 * YUAN


def _services(system: System) -> list[dict[str, object]]:
    with system.http(MINHANG) as http:
        data: list[dict[str, object]] = http.get("/services?limit=500").json()["data"]
    return data

"""Chinese and English from one dictionary per language, and screens that fit a phone."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.web.conftest import System, login_api_key, open_order_form, shot, tab
from voucher_chain.audit import anomalies
from voucher_chain.contracts import Category, OrderState, OrgKind, load_artifact

WEB = Path(__file__).resolve().parents[2] / "api" / "web" / "js"
PHONE: ViewportSize = {"width": 390, "height": 844}


def _keys(language: str) -> set[str]:
    text = (WEB / "i18n" / f"{language}.js").read_text()
    return set(re.findall(r'"([A-Za-z0-9_.]+)":\s', text))


def test_both_dictionaries_hold_every_string_the_apps_use() -> None:
    en, zh = _keys("en"), _keys("zh")
    assert len(en) > 200
    assert en == {k for k in zh if not k.startswith("err.")}, "the same keys in en.js and zh.js"
    used = set()
    for source in WEB.glob("*.js"):
        used |= set(re.findall(r'\bt\("([A-Za-z0-9_.]+)"', source.read_text()))
    assert used and used <= en, f"strings without an English text: {sorted(used - en)}"


def test_names_built_at_run_time_have_texts_too() -> None:
    """Keys the apps compose (``state.${name}``, ``step.${event}``, ...) for every value the
    API or the contracts can send."""
    en = _keys("en")
    events = [e["name"] for e in load_artifact("OrderBook").abi if e["type"] == "event"]
    steps = {e.removeprefix("Order") for e in events if e.startswith("Order") or "Dispute" in e}
    families = {
        "state": [s.name.lower() for s in OrderState],
        "step": sorted(steps),
        "kind": [k.name.lower() for k in OrgKind],
        "cat": [str(c.value) for c in Category],
        # the names the rules report (RULES groups them: "price" reports two)
        "rule": re.findall(r'rule="(\w+)"', inspect.getsource(anomalies)),
        "app": ["wallet", "institution", "issuer", "regulator", "pending", "approved", "rejected"],
        "move": ["issued", "redeemed", "revoked", "expired"],
    }
    missing = [f"{f}.{n}" for f, names in families.items() for n in names if f"{f}.{n}" not in en]
    assert missing == []


@pytest.mark.parametrize("app", ["wallet", "regulator"])
def test_the_apps_fit_a_phone_in_chinese(page: Page, system: System, app: str) -> None:
    page.set_viewport_size(PHONE)
    who = {"wallet": "Pudong biochip", "regulator": "National innovation-voucher audit office"}
    page.goto(f"/app/{app}/")
    if page.locator("html[lang=zh-CN]").count() == 0:
        page.click("button[data-action=lang]")
    expect(page.locator("#login-api-key h2")).to_have_text("使用 API 密钥登录")
    login_api_key(page, app, system.login(who[app]).api_key)
    expect(page.locator("header h1")).to_have_text(
        {"wallet": "企业钱包", "regulator": "监管看板"}[app]
    )
    if app == "wallet":
        expect(page.locator("main thead").first).to_be_hidden()  # tables become cards
        expect(page.locator("main td[data-label='项目']").first).to_be_visible()
        shot(page, "phone-zh-wallet")
        open_order_form(page, "EMC and reliability testing", system.demo.programs["shanghai"])
        expect(page.locator("#order-split")).to_contain_text("自有资金")
        shot(page, "phone-zh-order")
        tab(page, "orders")
    else:
        expect(page.locator("#chart-flows")).to_have_attribute("data-ready", re.compile("^[1-9]"))
        shot(page, "phone-zh-regulator")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("button[data-action=lang]")
    expect(page.locator("header h1")).not_to_have_text(re.compile("[\u4e00-\u9fff]"))

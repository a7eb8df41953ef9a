"""The voucher / own-fund split the wallet computes (api/web/js/split.js) is the contract's:
``maxVoucherValue`` in the browser equals ``ProgramManager.maxVoucherValue`` on chain over a grid
of prices, and an order at the computed maximum is accepted while one unit more is refused."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.web.conftest import System, flash_text, login_api_key, open_order_form
from voucher_chain.contracts import call

YUAN = 100
PUDONG = "Pudong biochip"
PRICES = [
    1,
    99,
    100,
    5_000 * YUAN - 1,
    5_000 * YUAN,
    9_999 * YUAN + 99,
    10_000 * YUAN,
    10_000 * YUAN + 1,
    33_333 * YUAN + 33,
    60_000 * YUAN,
    123_456_789,
    2**100 + 7,
]
SPLIT = """async ([price, terms]) => {
  const { maxVoucherValue } = await import("/app/js/split.js");
  return maxVoucherValue(price, terms).toString();
}"""


def test_the_browsers_cap_equals_the_contracts(page: Page, system: System) -> None:
    ids = [system.demo.programs["beijing"], system.demo.programs["shanghai"]]
    ids.append(system.programs["tiered"])
    page.goto("/app/")
    with system.http(PUDONG) as http:
        terms = {i: http.get(f"/programs/{i}").json()["terms"] for i in ids}
    assert terms[system.programs["tiered"]]["full_cover_threshold"] == 10_000 * YUAN
    for program_id in ids:
        for price in PRICES:
            in_browser = int(page.evaluate(SPLIT, [str(price), terms[program_id]]))
            on_chain = call(system.protocol.programs.functions.maxVoucherValue(program_id, price))
            assert in_browser == on_chain, (program_id, price)


def test_the_computed_maximum_is_accepted_and_one_unit_more_refused(
    page: Page, system: System
) -> None:
    tiered = system.programs["tiered"]
    login_api_key(page, "wallet", system.login(PUDONG).api_key)
    # ¥30,000 design review: full cover up to ¥10,000, then 30% of ¥20,000 → ¥16,000 in vouchers
    open_order_form(page, "Industrial design review", tiered)
    expect(page.locator("#order-split [data-field=cap]")).to_have_text("¥16,000.00")
    expect(page.locator("#order-units")).to_have_value("16000")
    page.fill("#order-units", "16001")
    expect(page.locator("#order-split .warn")).to_contain_text("voucher share")
    page.click("#order-submit")
    assert "Vouchers may pay at most ¥16,000.00" in flash_text(page, "error")
    page.fill("#order-units", "16000")
    expect(page.locator("#order-split [data-field=own]")).to_have_text("¥14,000.00")
    page.click("#order-submit")
    message = flash_text(page)
    order_id = int(message.split()[1])
    with system.http(PUDONG) as http:
        order = http.get(f"/orders/{order_id}").json()
    assert (order["program_id"], order["units"]) == (tiered, 16_000)
    assert (order["voucher_value"], order["own_funds"]) == (16_000 * YUAN, 14_000 * YUAN)


def test_a_late_answer_for_another_program_does_not_overwrite_the_chosen_ones_split(
    page: Page, system: System
) -> None:
    tiered = system.programs["tiered"]
    held: list[Route] = []

    def hold_other_programs(route: Route) -> None:
        if route.request.url.endswith(f"/programs/{tiered}"):
            route.continue_()
        else:
            held.append(route)

    # every program's terms but the tiered program's are held back (the list too, so none is
    # cached): the form first computes the split for the first program in the list, and the
    # tiered program is chosen while that answer is still out
    page.route(re.compile(r".*/programs(/\d+)?(\?.*)?$"), hold_other_programs)
    login_api_key(page, "wallet", system.login(PUDONG).api_key)
    open_order_form(page, "Industrial design review", tiered)
    expect(page.locator("#order-split [data-field=cap]")).to_have_text("¥16,000.00")
    late = [r for r in held if re.search(r"/programs/\d+$", r.request.url)]
    assert late, "the first program's terms were not asked for"
    for route in held:
        url = route.request.url
        with page.expect_response(lambda response, url=url: response.url == url):  # type: ignore[misc]
            route.continue_()
    page.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # its render would run
    expect(page.locator("#order-split [data-field=cap]")).to_have_text("¥16,000.00")
    expect(page.locator("#order-units")).to_have_value("16000")

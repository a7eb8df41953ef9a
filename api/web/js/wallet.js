// The enterprise wallet: vouchers, applications, the catalogue, orders with the voucher /
// own-fund split computed live from the program's terms, confirmation or dispute, history.
import { all, api } from "./api.js";
import { getCategories, getProgram, getPrograms, ordersTable, programLabel, stepsButton } from "./common.js";
import { t } from "./i18n.js";
import { start } from "./login.js";
import { split } from "./split.js";
import { act, catName, categoriesOf, flash, h, parseYuan, region, sha256Hex, shell, table, tx, when, yuan } from "./ui.js";

const REGIONS = [0, 110000, 310000, 330000, 330100, 330522, 331081];

// A step done custodially (the API signs) or, with the key in this browser, through the relay
async function step(s, custodial, relayed) {
  if (s.mode !== "key") return custodial();
  const keys = await import("./keys.js");
  return relayed(keys);
}

function vouchersTab(s) {
  return async (main) => {
    const [balances, categories, programs, applications] = await Promise.all([all("/vouchers"), getCategories(), getPrograms(), all("/applications")]);
    const msg = h("div", { class: "msg" });
    const open = programs.filter((p) => p.terms.kind === 0 && !p.budget.closed);
    const programSelect = h("select", { id: "apply-program" }, open.map((p) => h("option", { value: p.id }, programLabel(p))));
    const units = h("input", { id: "apply-units", type: "number", min: 1, value: 1 });
    const apply = h("form", {
      class: "card", id: "apply-form",
      onsubmit: (e) => {
        e.preventDefault();
        const programId = Number(programSelect.value);
        act(msg, () => step(s,
          () => api.send("/applications", { program_id: programId, units: Number(units.value) }),
          (keys) => keys.relay("programs", "applyForVouchers", [programId, BigInt(units.value), keys.requestId()]),
        ), (out) => t("apply.done", { id: out.id ?? "—", tx: out.tx?.tx_hash ?? out.tx_hash }));
      },
    }, h("h2", {}, t("apply.title")), h("label", {}, t("field.program"), programSelect), h("label", {}, t("field.units"), units), h("button", { type: "submit" }, t("apply.submit")));
    main.replaceChildren(
      h("h2", {}, t("vouchers.title")),
      table([
        ["field.program", (b) => `#${b.program_id}`],
        ["field.units", (b) => b.units],
        ["field.value", (b) => yuan(b.value)],
        ["field.faceValue", (b) => yuan(b.face_value)],
        ["field.expiry", (b) => when(b.expiry)],
        ["field.spendRegions", (b) => b.spend_regions.map(region).join(", ")],
        ["field.categories", (b) => categoriesOf(b.categories, categories).join(", ")],
        ["field.maxShare", (b) => `${b.max_share_bps / 100}%`],
      ], balances, { empty: "vouchers.none", rowAttrs: (b) => ({ "data-program": b.program_id }) }),
      msg,
      apply,
      h("h2", {}, t("apply.mine")),
      table([
        ["field.id", (a) => a.id],
        ["field.program", (a) => `#${a.program_id}`],
        ["field.units", (a) => a.units],
        ["field.status", (a) => t(`app.${a.status}`)],
      ], applications.filter((a) => a.enterprise_org === s.org_id)),
    );
  };
}

function orderForm(s, service, balances, categories, msg) {
  const holder = h("div", { class: "card", id: "order-form" });
  const options = balances.map((b) => h("option", { value: b.program_id }, `#${b.program_id} · ${yuan(b.value)}`));
  const programSelect = h("select", { id: "order-program" }, options);
  const quantity = h("input", { id: "order-quantity", type: "number", min: 1, value: 1 });
  const units = h("input", { id: "order-units", type: "number", min: 0 });
  const summary = h("dl", { class: "split", id: "order-split" });
  let current = null;
  let latest = 0; // a slower, earlier recompute (another program's terms) must not overwrite a later one
  async function recompute(resetUnits) {
    const ticket = ++latest;
    const balance = balances.find((b) => String(b.program_id) === programSelect.value);
    if (!balance) return;
    const program = await getProgram(balance.program_id);
    if (ticket !== latest) return;
    const price = BigInt(service.price) * BigInt(quantity.value || 1);
    if (resetUnits) units.value = split(price, program.terms, balance.units).maxUnits.toString();
    current = split(price, program.terms, balance.units, units.value === "" ? null : units.value);
    const warnings = [...current.problems];
    if (!((BigInt(program.terms.categories) >> BigInt(service.category)) & 1n)) warnings.push("split.category");
    summary.replaceChildren(...[
      h("dt", {}, t("field.price")), h("dd", { "data-field": "price" }, yuan(current.price)),
      h("dt", {}, t("split.cap"), ` (${program.terms.share_bps / 100}%)`), h("dd", { "data-field": "cap" }, yuan(current.cap)),
      h("dt", {}, t("split.vouchers")), h("dd", { "data-field": "vouchers" }, `${current.units} × ${yuan(program.terms.face_value)} = ${yuan(current.voucherValue)}`),
      h("dt", {}, t("split.own")), h("dd", { "data-field": "own" }, yuan(current.ownFunds)),
      warnings.length ? h("dd", { class: "warn" }, warnings.map((w) => t(w)).join(" ")) : null,
    ].filter(Boolean));
  }
  programSelect.addEventListener("change", () => recompute(true));
  quantity.addEventListener("input", () => recompute(true));
  units.addEventListener("input", () => recompute(false));
  const submit = (e) => {
    e.preventDefault();
    const body = { service_id: service.id, quantity: Number(quantity.value), program_id: Number(programSelect.value), units: Number(current.units), own_funds: Number(current.ownFunds) };
    act(msg, () => step(s,
      () => api.send("/orders", body),
      (keys) => keys.relay("orders", "placeOrder", [body.service_id, body.quantity, body.program_id, current.units, current.ownFunds, keys.requestId()]),
    ), (out) => t("order.placed", { id: out.id ?? "—", tx: out.tx?.tx_hash ?? out.tx_hash }));
  };
  holder.append(h("h2", {}, t("order.title", { name: service.name })), h("p", {}, `${catName(categories[service.category])} · ${yuan(service.price)}`),
    balances.length ? h("form", { onsubmit: submit }, h("label", {}, t("field.program"), programSelect), h("label", {}, t("field.quantity"), quantity), h("label", {}, t("field.voucherUnits"), units), summary, h("button", { type: "submit", id: "order-submit" }, t("order.submit"))) : h("p", { class: "empty" }, t("vouchers.none")));
  recompute(true);
  return holder;
}

function catalogueTab(s) {
  return async (main) => {
    const [categories, balances] = await Promise.all([getCategories(), all("/vouchers")]);
    const msg = h("div", { class: "msg" });
    const category = h("select", { id: "filter-category" }, h("option", { value: "" }, t("filter.any")), categories.map((c) => h("option", { value: c.id }, catName(c))));
    const regionSelect = h("select", { id: "filter-region" }, h("option", { value: "" }, t("filter.any")), REGIONS.slice(1).map((r) => h("option", { value: r }, region(r))));
    const maxPrice = h("input", { id: "filter-price", inputmode: "decimal", placeholder: "¥" });
    const results = h("div", { id: "services" });
    const form = h("div", {});
    async function search() {
      const q = new URLSearchParams();
      if (category.value) q.set("category", category.value);
      if (regionSelect.value) q.set("region", regionSelect.value);
      const fen = parseYuan(maxPrice.value);
      if (fen !== null) q.set("max_price", fen.toString());
      const services = await all(`/services?${q}`);
      results.replaceChildren(table([
        ["field.service", (x) => x.name],
        ["field.category", (x) => catName(categories[x.category])],
        ["field.institution", (x) => `#${x.institution_org}`],
        ["field.price", (x) => yuan(x.price)],
        ["", (x) => h("button", { type: "button", "data-action": "order", onclick: () => { form.replaceChildren(orderForm(s, x, balances, categories, msg)); form.scrollIntoView(); } }, t("order.open"))],
      ], services, { rowAttrs: (x) => ({ "data-service": x.id }) }));
    }
    const filters = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); search(); } },
      h("label", {}, t("field.category"), category), h("label", {}, t("field.region"), regionSelect), h("label", {}, t("filter.maxPrice"), maxPrice), h("button", { type: "submit", id: "filter-apply" }, t("filter.apply")));
    main.replaceChildren(h("h2", {}, t("tab.catalogue")), filters, results, form, msg);
    await search();
  };
}

function ordersTab(s, kept = null) {
  return async (main) => {
    const orders = (await all("/orders")).reverse();
    const msg = kept || h("div", { class: "msg" });
    const rerun = () => ordersTab(s, msg)(main);
    const actions = (o) => {
      const out = [];
      if (o.state === 3) {
        out.push(h("button", { type: "button", "data-action": "confirm", onclick: () => act(msg, () => step(s, () => api.send(`/orders/${o.id}/confirm`), (k) => k.relay("orders", "confirm", [o.id])), (r) => t("order.confirmed", { id: o.id, tx: r.tx?.tx_hash ?? r.tx_hash })).then(rerun) }, t("order.confirm")));
        const reason = h("input", { "data-field": "reason", placeholder: t("order.reason") });
        out.push(h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); act(msg, async () => { const digest = await sha256Hex(new TextEncoder().encode(reason.value)); return step(s, () => api.post(`/orders/${o.id}/dispute`, { reason_hash: digest }), (k) => k.relay("orders", "dispute", [o.id, digest])); }, t("order.disputed", { id: o.id })).then(rerun); } }, reason, h("button", { type: "submit", "data-action": "dispute" }, t("order.dispute"))));
      }
      if (o.state === 1) out.push(h("button", { type: "button", "data-action": "cancel", onclick: () => act(msg, () => step(s, () => api.send(`/orders/${o.id}/cancel`), (k) => k.relay("orders", "cancel", [o.id])), t("order.cancelled", { id: o.id })).then(rerun) }, t("order.cancel")));
      out.push(stepsButton(o.id));
      return h("div", { class: "actions" }, out);
    };
    main.replaceChildren(h("h2", {}, t("tab.orders")), msg, ordersTable(orders, "institution", actions));
  };
}

async function historyTab(main) {
  const moves = (await all("/vouchers/history")).reverse();
  main.replaceChildren(h("h2", {}, t("tab.history")), table([
    ["field.kind", (m) => t(`move.${m.kind}`)],
    ["field.program", (m) => `#${m.program_id}`],
    ["field.units", (m) => m.units],
    ["field.value", (m) => yuan(m.value)],
    ["field.tx", (m) => tx(m.tx)],
  ], moves));
}

start("app.wallet", ["enterprise", "startup_team"], (render, s) =>
  shell("app.wallet", { vouchers: vouchersTab(s), catalogue: catalogueTab(s), orders: ordersTab(s), history: historyTab }, render));

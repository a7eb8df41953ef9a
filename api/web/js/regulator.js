// The regulator dashboard over the audit index (/audit): charts, anomalies with their
// explanations, the transaction explorer, report exports (CSV, and a signed summary).
import { api } from "./api.js";
import { flowsChart, categoriesChart, latencyChart, monthlyChart, usageChart } from "./charts.js";
import { getCategories } from "./common.js";
import { t } from "./i18n.js";
import { start } from "./login.js";
import { act, download, h, region, shell, table, when, yuan } from "./ui.js";

const REGIONS = [110000, 310000, 330000, 330522, 0];

function filterQuery(regionValue) {
  return regionValue ? `?region=${regionValue}` : "";
}

async function overviewTab(main, regionValue = "") {
  const q = filterQuery(regionValue);
  const [summary, monthly, flows, categoriesReport, latency, categories] = await Promise.all([
    api.get(`/audit/reports/summary${q}`), api.get(`/audit/reports/monthly${q}`), api.get(`/audit/reports/flows${q}`),
    api.get(`/audit/reports/categories${q}`), api.get(`/audit/reports/latency${q}`), getCategories(),
  ]);
  const total = summary.totals;
  const select = h("select", { id: "filter-region", onchange: () => overviewTab(main, select.value) },
    h("option", { value: "" }, t("filter.any")), REGIONS.map((r) => h("option", { value: r, selected: String(r) === String(regionValue) }, region(r))));
  const figure = (key, value) => h("div", { class: "card figure", "data-figure": key }, h("span", { class: "hint" }, t(`fig.${key}`)), h("strong", {}, value));
  main.replaceChildren(
    h("h2", {}, t("tab.overview")),
    h("p", { class: "hint", id: "indexed" }, t("reg.indexed", { block: summary.indexed_block })),
    h("label", {}, t("reg.issuerRegion"), select),
    h("div", { class: "figures" },
      figure("budget", yuan(total.budget)), figure("escrowed", yuan(total.escrowed)), figure("issued", yuan(total.issued)),
      figure("redeemed", yuan(total.redeemed)), figure("usage", `${(total.usage_rate * 100).toFixed(1)}%`),
      figure("institutions", total.institutions), figure("enterprises", total.enterprises), figure("services", total.services)),
    h("div", { class: "charts" }, monthlyChart(monthly), usageChart(summary), flowsChart(flows), categoriesChart(categoriesReport, categories), latencyChart(latency)),
    h("h2", {}, t("reg.flowsTable")),
    table([
      ["reg.from", (r) => region(r.issuer_region)],
      ["reg.to", (r) => region(r.institution_region)],
      ["reg.orders", (r) => r.orders],
      ["chart.voucherPaid", (r) => yuan(r.voucher_paid)],
    ], flows.data),
  );
}

async function anomaliesTab(main) {
  const found = await api.get("/audit/anomalies?limit=500");
  main.replaceChildren(h("h2", {}, t("tab.anomalies")), h("p", { class: "hint" }, t("reg.anomaliesHint", { n: found.count })), table([
    ["reg.rule", (a) => h("span", { class: "badge" }, t(`rule.${a.rule}`))],
    ["reg.subject", (a) => a.subject],
    ["reg.explanation", (a) => a.explanation],
    ["reg.numbers", (a) => h("code", {}, Object.entries(a.numbers).map(([k, v]) => `${k}=${v}`).join(" "))],
  ], found.data, { empty: "reg.noAnomalies", rowAttrs: (a) => ({ "data-rule": a.rule }) }));
}

function eventsOf(txs) {
  return h("ul", { class: "events" }, txs.map((x) => h("li", { "data-tx": x.tx_hash },
    h("code", {}, x.tx_hash), x.status === 0 ? h("span", { class: "badge state-rejected" }, t("reg.failed")) : null,
    h("ul", {}, (x.events || []).map((e) => h("li", { "data-event": e.name }, h("strong", {}, `${e.contract}.${e.name}`), " ", h("code", {}, JSON.stringify(e.args))))),
    x.failure ? h("p", { class: "warn" }, `${x.failure.contract}.${x.failure.function}: ${x.failure.error}`) : null)));
}

async function explorerTab(main) {
  const blocks = await api.get("/audit/blocks?limit=25");
  const detail = h("div", { id: "explorer-detail" });
  const msg = h("div", { class: "msg" });
  const showBlock = (n) => act(msg, async () => {
    const b = await api.get(`/audit/blocks/${n}`);
    detail.replaceChildren(h("h3", {}, t("reg.block", { n: b.number })), h("p", { class: "hint" }, `${when(b.timestamp)} · ${b.hash}`), eventsOf([...b.transactions, ...b.failed_transactions]));
  });
  const search = h("input", { id: "tx-search", placeholder: "0x…", pattern: "^0x[0-9a-fA-F]{64}$" });
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); act(msg, async () => {
    const x = await api.get(`/audit/transactions/${search.value.trim()}`);
    detail.replaceChildren(h("h3", {}, t("reg.block", { n: x.block_number })), eventsOf([x]));
  }); } }, h("label", {}, t("reg.txSearch"), search), h("button", { type: "submit" }, t("filter.apply")));
  main.replaceChildren(h("h2", {}, t("tab.explorer")), form, msg, detail, table([
    ["reg.blockNo", (b) => h("button", { type: "button", class: "secondary", "data-block": b.number, onclick: () => showBlock(b.number) }, String(b.number))],
    ["reg.time", (b) => when(b.timestamp)],
    ["reg.txs", (b) => b.tx_count],
    ["reg.failed", (b) => b.failed_tx_count],
    ["reg.hash", (b) => h("code", {}, `${b.hash.slice(0, 18)}…`)],
  ], blocks.data));
}

const REPORTS = ["summary", "monthly", "flows", "categories", "institutions", "enterprises", "latency"];

async function exportsTab(main) {
  const msg = h("div", { class: "msg" });
  const csv = (name) => act(msg, async () => download(`${name}.csv`, await api.text(`/audit/reports/${name}?format=csv`), "text/csv"), t("reg.downloaded", { name }));
  const signed = () => act(msg, async () => {
    const out = await api.post("/audit/exports", {});
    download(`audit-export-${out.document.anchor.block}.json`, JSON.stringify(out, null, 2), "application/json");
    return out;
  }, (out) => t("reg.signed", { block: out.document.anchor.block, signer: out.signer }));
  main.replaceChildren(h("h2", {}, t("tab.exports")), msg,
    h("div", { class: "card" }, h("h3", {}, t("reg.csv")), h("div", { class: "actions" }, REPORTS.map((r) => h("button", { type: "button", "data-export": r, onclick: () => csv(r) }, t(`report.${r}`))))),
    h("div", { class: "card" }, h("h3", {}, t("reg.signedTitle")), h("p", { class: "hint" }, t("reg.signedHint")), h("button", { type: "button", id: "signed-export", onclick: signed }, t("reg.signedButton"))));
}

start("app.regulator", ["regulator"], (render) =>
  shell("app.regulator", { overview: (m) => overviewTab(m), anomalies: anomaliesTab, explorer: explorerTab, exports: exportsTab }, render));

// The issuer console: programs with budget, escrow and usage (and closing one), applications to
// approve, accreditation of institutions, disputes to resolve.
import { all, api } from "./api.js";
import { getCategories, getPrograms, stepsButton } from "./common.js";
import { t } from "./i18n.js";
import { start } from "./login.js";
import { act, catName, h, parseYuan, region, shell, table, when, yuan } from "./ui.js";

const pct = (part, whole) => (BigInt(whole) === 0n ? "—" : `${(Number((BigInt(part) * 10000n) / BigInt(whole)) / 100).toFixed(2)}%`);

function programsTab(s, kept = null) {
  return async (main) => {
    const programs = (await getPrograms()).filter((p) => p.budget.issuer_org === s.org_id);
    const msg = kept || h("div", { class: "msg" });
    const rerun = () => programsTab(s, msg)(main);
    main.replaceChildren(h("h2", {}, t("tab.programs")), msg, table([
      ["field.program", (p) => `#${p.id} · ${p.terms.fiscal_year}`],
      ["field.kind", (p) => t(p.terms.kind === 0 ? "program.voucher" : "program.reward")],
      ["field.spendRegions", (p) => p.terms.spend_regions.map(region).join(", ")],
      ["prog.budget", (p) => yuan(BigInt(p.budget.funded) + BigInt(p.budget.rolled_in))],
      ["prog.escrowed", (p) => h("span", { "data-field": "escrowed" }, yuan(p.budget.escrowed))],
      ["prog.paid", (p) => yuan(p.budget.paid)],
      ["prog.returned", (p) => yuan(p.budget.returned)],
      ["prog.issued", (p) => yuan(BigInt(p.budget.issued_units) * BigInt(p.terms.face_value))],
      ["prog.usage", (p) => pct(p.budget.redeemed_units, p.budget.issued_units)],
      ["prog.deadline", (p) => when(p.terms.settlement_deadline)],
      ["field.status", (p) => (p.budget.closed ? h("span", { class: "badge", "data-field": "closed" }, t("prog.closed")) :
        // closing is possible after the settlement deadline (the contract is the judge)
        Date.now() / 1000 <= p.terms.settlement_deadline ? h("span", { class: "badge" }, t("prog.open")) :
        h("button", { type: "button", "data-action": "close", onclick: () => act(msg, () => api.send(`/programs/${p.id}/close`), (r) => t("prog.closedNow", { id: p.id, tx: r.tx_hash })).then(rerun) }, t("prog.close")))],
    ], programs, { rowAttrs: (p) => ({ "data-program": p.id }) }));
  };
}

function applicationsTab(s, kept = null) {
  return async (main) => {
    const apps = (await all("/applications?status=pending")).reverse();
    const msg = kept || h("div", { class: "msg" });
    const rerun = () => applicationsTab(s, msg)(main);
    main.replaceChildren(h("h2", {}, t("tab.applications")), msg, table([
      ["field.id", (a) => a.id],
      ["field.program", (a) => `#${a.program_id}`],
      ["field.enterprise", (a) => `#${a.enterprise_org}`],
      ["field.units", (a) => a.units],
      ["", (a) => h("div", { class: "actions" },
        h("button", { type: "button", "data-action": "approve", onclick: () => act(msg, () => api.send(`/applications/${a.id}/approve`), (r) => t("iss.approved", { id: a.id, value: yuan(r.value), tx: r.tx.tx_hash })).then(rerun) }, t("iss.approve")),
        h("button", { type: "button", class: "secondary", "data-action": "reject", onclick: () => act(msg, () => api.post(`/applications/${a.id}/reject`, { reason_code: 1 }), t("iss.rejected", { id: a.id })).then(rerun) }, t("iss.reject")))],
    ], apps, { empty: "iss.noApplications", rowAttrs: (a) => ({ "data-application": a.id }) }));
  };
}

async function accreditationTab(main) {
  const categories = await getCategories();
  const msg = h("div", { class: "msg" });
  const org = h("input", { id: "accredit-org", type: "number", min: 1, required: true });
  const boxes = categories.map((c) => h("input", { type: "checkbox", value: c.id, "data-category": c.id }));
  const mask = () => boxes.reduce((m, b) => (b.checked ? m | (1n << BigInt(b.value)) : m), 0n);
  const load = () => act(msg, async () => {
    const current = await api.get(`/accreditations/${org.value}`);
    for (const b of boxes) b.checked = Boolean((BigInt(current.categories) >> BigInt(b.value)) & 1n);
  });
  const form = h("form", { class: "card", id: "accredit-form", onsubmit: (e) => { e.preventDefault(); act(msg, () => api.put(`/accreditations/${org.value}`, { categories: Number(mask()) }), (r) => t("iss.accredited", { id: r.institution_org })); } },
    h("label", {}, t("field.institution"), org),
    h("button", { type: "button", class: "secondary", id: "accredit-load", onclick: load }, t("iss.load")),
    h("fieldset", {}, h("legend", {}, t("field.categories")), categories.map((c, i) => h("label", { class: "check" }, boxes[i], catName(c)))),
    h("button", { type: "submit" }, t("iss.accredit")));
  main.replaceChildren(h("h2", {}, t("tab.accreditation")), h("p", { class: "hint" }, t("iss.accreditHint")), msg, form);
}

function disputesTab(s, kept = null) {
  return async (main) => {
    const disputes = await all("/disputes");
    const msg = kept || h("div", { class: "msg" });
    const rerun = () => disputesTab(s, msg)(main);
    const resolveForm = (o) => {
      const units = h("input", { type: "number", min: 0, max: o.units, value: 0, "data-field": "units" });
      const own = h("input", { inputmode: "decimal", value: "0", "data-field": "own" });
      return h("form", { class: "inline", onsubmit: (e) => {
        e.preventDefault();
        act(msg, () => api.send(`/orders/${o.id}/resolve`, { units: Number(units.value), own_funds: Number(parseYuan(own.value) ?? 0n) }), t("iss.resolved", { id: o.id })).then(rerun);
      } }, h("label", {}, t("iss.payUnits", { max: o.units }), units), h("label", {}, t("iss.payOwn", { max: yuan(o.own_funds) }), own), h("button", { type: "submit", "data-action": "resolve" }, t("iss.resolve")));
    };
    main.replaceChildren(h("h2", {}, t("tab.disputes")), h("p", { class: "hint" }, t("iss.resolveHint")), msg, table([
      ["field.order", (o) => o.id],
      ["field.program", (o) => `#${o.program_id}`],
      ["field.enterprise", (o) => `#${o.enterprise_org}`],
      ["field.institution", (o) => `#${o.institution_org}`],
      ["split.vouchers", (o) => `${o.units} · ${yuan(o.voucher_value)}`],
      ["split.own", (o) => yuan(o.own_funds)],
      ["", (o) => h("div", { class: "actions" }, resolveForm(o), stepsButton(o.id))],
    ], disputes, { empty: "iss.noDisputes", rowAttrs: (o) => ({ "data-order": o.id }) }));
  };
}

start("app.issuer", ["issuer"], (render, s) =>
  shell("app.issuer", { programs: programsTab(s), applications: applicationsTab(s), accreditation: accreditationTab, disputes: disputesTab(s) }, render));

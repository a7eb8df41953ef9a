// Data every app reads: categories, programs (cached for the page), order states.
import { all, api } from "./api.js";
import { t } from "./i18n.js";
import { h, table, tx, when, yuan } from "./ui.js";

export const STATES = ["none", "placed", "accepted", "delivered", "settled", "cancelled", "rejected", "disputed", "resolved", "expired"];

let categories = null;
export async function getCategories() {
  categories ??= await all("/categories");
  return categories;
}

const programs = new Map();
export async function getProgram(id, fresh = false) {
  if (fresh || !programs.has(id)) programs.set(id, await api.get(`/programs/${id}`));
  return programs.get(id);
}

export async function getPrograms() {
  const list = await all("/programs");
  for (const p of list) programs.set(p.id, p);
  return list;
}

export function stateBadge(state) {
  const name = STATES[state] || String(state);
  return h("span", { class: `badge state-${name}`, "data-state": name }, t(`state.${name}`));
}

// An order's steps, each with its transaction (GET /orders/{id}/steps)
export async function stepsList(orderId) {
  const steps = await api.get(`/orders/${orderId}/steps`);
  return h("ol", { class: "steps", "data-order": orderId }, steps.map((s) => h("li", {}, h("strong", {}, t(`step.${s.step}`)), " ", when(s.at), " ", tx(s.tx))));
}

export function programLabel(p) {
  return t("program.label", { id: p.id, year: p.terms.fiscal_year });
}

// An organisation's orders as a table: the counterparty ("enterprise" or "institution") and
// the row's action buttons
export function ordersTable(orders, counterparty, actions) {
  return table([
    ["field.id", (o) => o.id],
    ["field.service", (o) => `#${o.service_id}`],
    [`field.${counterparty}`, (o) => `#${o[`${counterparty}_org`]}`],
    ["field.state", (o) => stateBadge(o.state)],
    ["field.price", (o) => yuan(o.price)],
    ["split.vouchers", (o) => yuan(o.voucher_value)],
    ["split.own", (o) => yuan(o.own_funds)],
    ["field.placed", (o) => when(o.placed_at)],
    ["", actions],
  ], orders, { rowAttrs: (o) => ({ "data-order": o.id }) });
}

export function stepsButton(orderId) {
  return h("button", { type: "button", class: "secondary", "data-action": "steps", onclick: async (e) => e.target.replaceWith(await stepsList(orderId)) }, t("order.steps"));
}

// Data every app reads: categories, programs (cached for the page), order states.
import { all, api } from "./api.js";
import { t } from "./i18n.js";
import { h, tx, when } from "./ui.js";

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

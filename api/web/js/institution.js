// The institution console: services and prices, incoming orders (accept, reject, deliver with
// the deliverable's SHA-256 computed here), payments with the time from delivery to payment,
// statements as CSV.
import { all, api } from "./api.js";
import { getCategories, ordersTable, stepsButton } from "./common.js";
import { t } from "./i18n.js";
import { start } from "./login.js";
import { act, catName, downloadCsv, h, parseYuan, sha256Hex, shell, table, tx, when, yuan } from "./ui.js";

function servicesTab(s, kept = null) {
  return async (main) => {
    const [categories, services, accreditation] = await Promise.all([getCategories(), all(`/services?institution_org=${s.org_id}&include_inactive=true`), api.get(`/accreditations/${s.org_id}`)]);
    const msg = kept || h("div", { class: "msg" });
    const allowed = categories.filter((c) => (BigInt(accreditation.categories) >> BigInt(c.id)) & 1n);
    const category = h("select", { id: "service-category" }, allowed.map((c) => h("option", { value: c.id }, catName(c))));
    const name = h("input", { id: "service-name", required: true, maxlength: 200 });
    const price = h("input", { id: "service-price", inputmode: "decimal", required: true, placeholder: "¥" });
    const form = h("form", {
      class: "card", id: "service-form",
      onsubmit: (e) => {
        e.preventDefault();
        act(msg, async () => {
          const fen = parseYuan(price.value);
          if (fen === null || fen === 0n) throw new Error(t("service.badPrice"));
          const out = await api.post("/services", { category: Number(category.value), price: Number(fen), name: name.value });
          await servicesTab(s, msg)(main);
          return out;
        }, (out) => t("service.listed", { id: out.id }));
      },
    }, h("h2", {}, t("service.add")), h("label", {}, t("field.category"), category), h("label", {}, t("field.service"), name), h("label", {}, t("field.price"), price), h("button", { type: "submit" }, t("service.submit")));
    main.replaceChildren(
      h("h2", {}, t("tab.services")),
      h("p", { class: "hint", id: "accredited" }, t("service.accredited", { list: allowed.map(catName).join(", ") || "—" })),
      table([
        ["field.id", (x) => x.id],
        ["field.service", (x) => x.name],
        ["field.category", (x) => catName(categories[x.category])],
        ["field.price", (x) => yuan(x.price)],
        ["field.status", (x) => t(x.active ? "service.active" : "service.inactive")],
        ["", (x) => editService(x, msg, () => servicesTab(s, msg)(main))],
      ], services, { rowAttrs: (x) => ({ "data-service": x.id }) }),
      msg,
      form,
    );
  };
}

// A new price, or withdrawing / relisting (PATCH /services/{id}); placed orders keep their price
function editService(x, msg, rerun) {
  const price = h("input", { inputmode: "decimal", "data-field": "price", placeholder: "¥", "aria-label": t("field.price") });
  const update = (active) => act(msg, async () => {
    const fen = price.value.trim() ? parseYuan(price.value) : BigInt(x.price);
    if (fen === null || fen === 0n) throw new Error(t("service.badPrice"));
    return api.patch(`/services/${x.id}`, { price: Number(fen), active });
  }, (r) => t("service.updated", { id: r.id, price: yuan(r.price) })).then(rerun);
  return h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); update(x.active); } },
    price, h("button", { type: "submit", "data-action": "reprice" }, t("service.reprice")),
    h("button", { type: "button", class: "secondary", "data-action": x.active ? "withdraw" : "relist", onclick: () => update(!x.active) }, t(x.active ? "service.withdraw" : "service.relist")));
}

function ordersTab(s, kept = null) {
  return async (main) => {
    const orders = (await all("/orders")).filter((o) => o.institution_org === s.org_id).reverse();
    const msg = kept || h("div", { class: "msg" });
    const rerun = () => ordersTab(s, msg)(main);
    const actions = (o) => {
      const out = [];
      if (o.state === 1) out.push(h("button", { type: "button", "data-action": "accept", onclick: () => act(msg, () => api.post(`/orders/${o.id}/accept`), t("inst.accepted", { id: o.id })).then(rerun) }, t("inst.accept")));
      if (o.state === 1 || o.state === 2) out.push(h("button", { type: "button", class: "secondary", "data-action": "reject", onclick: () => act(msg, () => api.send(`/orders/${o.id}/reject`, { reason_code: 1 }), t("inst.rejected", { id: o.id })).then(rerun) }, t("inst.reject")));
      if (o.state === 2) {
        const file = h("input", { type: "file", "data-field": "deliverable" });
        const digest = h("code", { "data-field": "hash" });
        file.addEventListener("change", async () => { digest.textContent = file.files[0] ? await sha256Hex(await file.files[0].arrayBuffer()) : ""; });
        out.push(h("form", { class: "inline", onsubmit: (e) => {
          e.preventDefault();
          act(msg, async () => {
            if (!file.files[0]) throw new Error(t("inst.chooseFile"));
            const hash = await sha256Hex(await file.files[0].arrayBuffer());
            return api.post(`/orders/${o.id}/deliver`, { deliverable_hash: hash });
          }, (r) => t("inst.delivered", { id: o.id, hash: r.deliverable_hash })).then(rerun);
        } }, file, digest, h("button", { type: "submit", "data-action": "deliver" }, t("inst.deliver"))));
      }
      out.push(stepsButton(o.id));
      return h("div", { class: "actions" }, out);
    };
    main.replaceChildren(h("h2", {}, t("tab.incoming")), msg, ordersTable(orders, "enterprise", actions));
  };
}

function paymentsTab(s) {
  return async (main) => {
    const [payments, orders] = await Promise.all([all(`/settlements?institution_org=${s.org_id}`), all("/orders")]);
    const byId = new Map(orders.map((o) => [o.id, o]));
    const rows = payments.map((p) => {
      const o = byId.get(p.order_id);
      const latency = o && o.delivered_at && p.paid_at ? p.paid_at - o.delivered_at : null;
      return { ...p, order: o, latency };
    }).reverse();
    const total = rows.reduce((sum, r) => sum + BigInt(r.voucher_value) + BigInt(r.own_funds) + BigInt(r.rewards), 0n);
    const exportCsv = () => downloadCsv(`statement-${s.org_id}.csv`,
      ["order_id", "paid_at", "voucher_value_fen", "own_funds_fen", "rewards_fen", "total_fen", "delivered_to_paid_seconds", "method", "tx_hash", "block"],
      rows.map((r) => [r.order_id, r.paid_at ? new Date(r.paid_at * 1000).toISOString() : "", r.voucher_value, r.own_funds, r.rewards, BigInt(r.voucher_value) + BigInt(r.own_funds) + BigInt(r.rewards), r.latency ?? "", r.method === 0 ? "confirmed" : "claimed", r.tx.tx_hash, r.tx.block_number]));
    main.replaceChildren(
      h("h2", {}, t("tab.payments")),
      h("p", { class: "hint" }, t("pay.explain")),
      h("p", { id: "payments-total" }, t("pay.total", { total: yuan(total), n: rows.length })),
      h("button", { type: "button", id: "export-csv", onclick: exportCsv }, t("pay.export")),
      table([
        ["field.order", (r) => r.order_id],
        ["field.paidAt", (r) => when(r.paid_at)],
        ["split.vouchers", (r) => yuan(r.voucher_value)],
        ["split.own", (r) => yuan(r.own_funds)],
        ["pay.rewards", (r) => yuan(r.rewards)],
        ["pay.latency", (r) => (r.latency === null ? "—" : h("span", { "data-field": "latency" }, `${r.latency} s`))],
        ["field.tx", (r) => tx(r.tx)],
      ], rows, { rowAttrs: (r) => ({ "data-order": r.order_id }) }),
    );
  };
}

start("app.institution", ["institution"], (render, s) =>
  shell("app.institution", { services: servicesTab(s), incoming: ordersTab(s), payments: paymentsTab(s) }, render));

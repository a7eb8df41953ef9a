// DOM helpers shared by the four apps: elements, the page shell (title, tabs, language switch,
// logout), tables, messages, formatting of money, time, regions and transactions, CSV export.
import { ApiError, session } from "./api.js";
import { has, lang, setLang, t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function yuan(fen) {
  const f = BigInt(fen);
  const sign = f < 0n ? "-" : "";
  const a = f < 0n ? -f : f;
  const whole = (a / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}¥${whole}.${(a % 100n).toString().padStart(2, "0")}`;
}

// "12,345.67" or "12345" → fen (BigInt); null when not a number
export function parseYuan(text) {
  const m = String(text).replace(/[,¥\s]/g, "").match(/^(\d+)(?:\.(\d{1,2}))?$/);
  if (!m) return null;
  return BigInt(m[1]) * 100n + BigInt((m[2] || "0").padEnd(2, "0"));
}

export function when(unix) {
  if (!unix) return "—";
  const d = new Date(Number(unix) * 1000);
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export function duration(seconds) {
  const s = Number(seconds);
  if (s < 120) return t("time.seconds", { n: s });
  if (s < 7200) return t("time.minutes", { n: Math.round(s / 60) });
  if (s < 172800) return t("time.hours", { n: Math.round(s / 3600) });
  return t("time.days", { n: Math.round(s / 86400) });
}

export function region(code) {
  const c = Number(code);
  if (c === 0) return t("region.national");
  let text = String(c).padStart(6, "0");
  while (text.endsWith("00")) text = text.slice(0, -2);
  for (let n = text.length; n >= 2; n -= 2) {
    const key = `region.${text.slice(0, n)}`;
    if (has(key)) return n === text.length ? t(key) : `${t(key)} (${code})`;
  }
  return String(code).padStart(6, "0");
}

export function categoriesOf(mask, categories) {
  const m = BigInt(mask);
  return categories.filter((c) => (m >> BigInt(c.id)) & 1n).map((c) => catName(c));
}

export function catName(c) {
  const key = `cat.${c.id}`;
  return has(key) ? t(key) : c.name;
}

export function tx(ref) {
  if (!ref || !ref.tx_hash) return "—";
  const short = `${ref.tx_hash.slice(0, 10)}…${ref.tx_hash.slice(-6)}`;
  return h("span", { class: "tx", title: ref.tx_hash, "data-tx": ref.tx_hash }, short, ref.block_number != null ? ` #${ref.block_number}` : "");
}

// The API's message for an error, in the reader's language where a translation exists
export function errorText(err) {
  if (err instanceof ApiError) {
    const key = `err.${err.code}`;
    if (lang !== "en" && has(key)) {
      const vars = {};
      for (const [k, v] of Object.entries(err.details)) vars[k] = typeof v === "number" || /^\d+$/.test(String(v)) ? String(v) : v;
      if ("category" in err.details && has(`cat.${err.details.category}`)) vars.category = t(`cat.${err.details.category}`);
      for (const k of ["institutionRegion", "region", "issuerRegion"]) if (k in err.details) vars[k] = region(err.details[k]);
      for (const k of ["maxVoucherValue", "voucherValue", "ownFunds", "price", "balance", "needed", "requested", "remaining"]) {
        if (k in err.details && err.code !== "ERC1155InsufficientBalance") vars[k] = yuan(err.details[k]);
      }
      return t(key, vars);
    }
    return err.message;
  }
  return String(err.message || err);
}

export function flash(where, message, kind = "ok") {
  where.replaceChildren(h("div", { class: `flash ${kind}`, role: kind === "error" ? "alert" : "status" }, message));
}

// Runs an action, reporting success or the API's error in `where`
export async function act(where, fn, okMessage) {
  flash(where, t("working"), "busy");
  try {
    const out = await fn();
    if (okMessage) flash(where, typeof okMessage === "function" ? okMessage(out) : okMessage, "ok");
    return out;
  } catch (err) {
    flash(where, errorText(err), "error");
    return undefined;
  }
}

export function table(columns, rows, { empty = "table.empty", rowAttrs = () => ({}) } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, t(empty));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", {}, t(label))))),
      h("tbody", {}, rows.map((row) => h("tr", rowAttrs(row), columns.map(([label, cell]) => h("td", { "data-label": t(label) }, cell(row)))))),
    ),
  );
}

export function downloadCsv(filename, header, rows) {
  const quote = (v) => `"${String(v).replace(/"/g, '""')}"`;
  download(filename, [header, ...rows].map((r) => r.map(quote).join(",")).join("\r\n"), "text/csv");
}

export function download(filename, text, type) {
  const link = h("a", { href: URL.createObjectURL(new Blob([text], { type })), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
}

export async function sha256Hex(data) {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return "0x" + [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The page: header (app title, who is logged in, language switch, logout), tabs, and a main area.
// `tabs` maps a tab id to a render function (main element) → Promise.
export function shell(titleKey, tabs, render) {
  const main = h("main", { id: "main" });
  const s = session.get();
  const nav = h(
    "nav",
    { class: "tabs" },
    Object.keys(tabs).map((id) =>
      h("button", { type: "button", "data-tab": id, onclick: () => show(id) }, t(`tab.${id}`)),
    ),
  );
  const langButton = h("button", { type: "button", class: "lang", "data-action": "lang", onclick: () => { setLang(lang === "zh" ? "en" : "zh"); render(); } }, lang === "zh" ? "English" : "中文");
  const logout = h("button", { type: "button", "data-action": "logout", onclick: () => { session.clear(); render(); } }, t("login.logout"));
  const who = s ? h("span", { class: "who" }, t("login.as", { org: s.org_id, kind: t(`kind.${s.kind}`) })) : null;
  document.body.replaceChildren(
    h("header", {}, h("a", { href: "/app/", class: "home" }, "VoucherChain"), h("h1", {}, t(titleKey)), h("div", { class: "tools" }, who, langButton, logout)),
    nav,
    main,
  );
  async function show(id) {
    for (const b of nav.querySelectorAll("button")) b.classList.toggle("active", b.dataset.tab === id);
    location.hash = id;
    // each view renders into its own element: a slow earlier tab cannot overwrite a later one
    const view = h("section", { "data-view": id }, h("p", { class: "loading" }, t("loading")));
    main.replaceChildren(view);
    try {
      await tabs[id](view);
    } catch (err) {
      view.replaceChildren(h("div", { class: "flash error", role: "alert" }, errorText(err)));
    }
  }
  const first = location.hash.slice(1);
  show(first in tabs ? first : Object.keys(tabs)[0]);
}

// The login page every app shares: custodially with an API key (the API signs for the
// organisation), or with the organisation's own key kept encrypted in this browser.
import { api, session } from "./api.js";
import { lang, setLang, t } from "./i18n.js";
import { act, errorText, flash, h } from "./ui.js";

async function finish(secret, extra, kinds, done, where) {
  session.set({ secret, ...extra });
  try {
    const me = await api.get("/organisations/me");
    const kind = me.organisation.kind;
    const name = typeof kind === "string" ? kind.toLowerCase() : KIND_NAMES[kind];
    if (!kinds.includes(name)) {
      session.clear();
      flash(where, t("login.wrongKind", { kind: t(`kind.${name}`) }), "error");
      return;
    }
    session.set({ secret, ...extra, org_id: me.organisation.id, kind: name, account: me.account, region: me.organisation.region });
    done();
  } catch (err) {
    session.clear();
    flash(where, errorText(err), "error");
  }
}

export const KIND_NAMES = ["none", "enterprise", "startup_team", "institution", "issuer", "finance", "regulator", "bank", "governor"];

export function loginPage(titleKey, kinds, done) {
  const msg = h("div", { class: "msg" });
  const apiKey = h("input", { id: "api-key", type: "password", autocomplete: "off", placeholder: "vck_…" });
  const custodial = h(
    "form",
    { class: "card", id: "login-api-key", onsubmit: (e) => { e.preventDefault(); finish(apiKey.value.trim(), { mode: "api-key" }, kinds, done, msg); } },
    h("h2", {}, t("login.custodial")),
    h("p", { class: "hint" }, t("login.custodialHint")),
    h("label", {}, t("login.apiKey"), apiKey),
    h("button", { type: "submit" }, t("login.submit")),
  );
  const keyCard = h("div", { class: "card", id: "login-key" }, h("h2", {}, t("login.selfCustody")), h("p", { class: "hint" }, t("login.selfCustodyHint")), h("p", { class: "loading" }, t("loading")));
  document.body.replaceChildren(
    h("header", {}, h("a", { href: "/app/", class: "home" }, "VoucherChain"), h("h1", {}, t(titleKey)),
      h("div", { class: "tools" }, h("button", { type: "button", class: "lang", "data-action": "lang", onclick: () => { setLang(lang === "zh" ? "en" : "zh"); loginPage(titleKey, kinds, done); } }, lang === "zh" ? "English" : "中文"))),
    h("main", { class: "login" }, msg, custodial, keyCard),
  );
  import("./keys.js").then((keys) => keyForms(keys, keyCard, msg, kinds, done)).catch((err) => flash(msg, errorText(err), "error"));
}

function keyForms(keys, card, msg, kinds, done) {
  const accounts = keys.storedAccounts();
  const select = h("select", { id: "key-account" }, accounts.map((a) => h("option", { value: a }, a)));
  const password = h("input", { id: "key-password", type: "password", autocomplete: "current-password" });
  const unlockForm = h(
    "form",
    {
      id: "key-unlock",
      onsubmit: (e) => {
        e.preventDefault();
        act(msg, async () => {
          flash(msg, t("login.unlocking"), "ok");
          await keys.unlock(select.value, password.value);
          const token = await keys.login();
          await finish(token.access_token, { mode: "key", address: select.value }, kinds, done, msg);
        });
      },
    },
    h("label", {}, t("login.account"), select),
    h("label", {}, t("login.password"), password),
    h("button", { type: "submit" }, t("login.unlock")),
  );
  const secret = h("textarea", { id: "import-secret", rows: 2, placeholder: t("login.importPlaceholder") });
  const newPassword = h("input", { id: "import-password", type: "password", autocomplete: "new-password" });
  const imported = (address) => t("login.stored", { address });
  const importForm = h(
    "form",
    {
      id: "key-import",
      onsubmit: (e) => {
        e.preventDefault();
        act(msg, async () => {
          if (newPassword.value.length < 8) throw new Error(t("login.shortPassword"));
          const address = secret.value.trim() ? await keys.importKey(secret.value, newPassword.value) : await keys.createKey(newPassword.value);
          secret.value = "";
          keyForms(keys, card, msg, kinds, done);
          return address;
        }, imported);
      },
    },
    h("h3", {}, t("login.addKey")),
    h("label", {}, t("login.importSecret"), secret),
    h("label", {}, t("login.newPassword"), newPassword),
    h("button", { type: "submit" }, t("login.store")),
  );
  card.replaceChildren(h("h2", {}, t("login.selfCustody")), h("p", { class: "hint" }, t("login.selfCustodyHint")), accounts.length ? unlockForm : h("p", { class: "empty" }, t("login.noKeys")), importForm);
}

// Renders the app when logged in as one of `kinds`, else the login page
export function start(titleKey, kinds, app) {
  const render = () => {
    const s = session.get();
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    if (!s || !kinds.includes(s.kind)) return loginPage(titleKey, kinds, render);
    if (s.mode === "key") {
      return import("./keys.js").then((keys) => {
        if (!keys.isUnlocked()) {
          session.clear();
          return loginPage(titleKey, kinds, render);
        }
        return app(render, s);
      });
    }
    return app(render, s);
  };
  render();
}

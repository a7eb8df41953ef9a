// The landing page: the four apps.
import { lang, setLang, t } from "./i18n.js";
import { h } from "./ui.js";

function render() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  const apps = ["wallet", "institution", "issuer", "regulator"];
  document.body.replaceChildren(
    h("header", {}, h("a", { href: "/app/", class: "home" }, "VoucherChain"), h("h1", {}, t("home.title")),
      h("div", { class: "tools" }, h("button", { type: "button", class: "lang", "data-action": "lang", onclick: () => { setLang(lang === "zh" ? "en" : "zh"); render(); } }, lang === "zh" ? "English" : "中文"))),
    h("main", {}, h("p", {}, t("home.intro")), h("div", { class: "apps" }, apps.map((a) =>
      h("a", { href: `/app/${a}/`, "data-app": a }, h("div", { class: "card" }, h("h2", {}, t(`app.${a}`)), h("p", { class: "hint" }, t(`home.${a}`))))))),
  );
}
render();

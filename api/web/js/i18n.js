// Translations: one dictionary per language (i18n/en.js, i18n/zh.js); t(key, vars) fills {name}.
import en from "./i18n/en.js";
import zh from "./i18n/zh.js";

const DICTS = { en, zh };
const STORE = "vc.lang";

export let lang = localStorage.getItem(STORE) || (navigator.language.startsWith("zh") ? "zh" : "en");

export function setLang(next) {
  lang = next;
  localStorage.setItem(STORE, next);
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
}

export function has(key) {
  return key in DICTS[lang];
}

export function t(key, vars = {}) {
  const text = DICTS[lang][key] ?? DICTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

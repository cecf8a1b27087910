// The pages' own words in English, Vietnamese or Korean, from the node's message
// catalogues (/web/i18n/{language}.json, one per language: adapters/languages). The
// language is the one the visitor chose with the switch (remembered in localStorage),
// else the one the node chose from Accept-Language (<html lang>), else English. A
// document's field values are never translated: only docex's labels and sentences are.

export const LANGUAGES = ["en", "vi", "ko"];
const STORE_KEY = "docex.language";
let messages = {};
let english = {};
let current = "en";

async function load(language) {
  try {
    const response = await fetch(`web/i18n/${language}.json`);
    return response.ok ? await response.json() : {};
  } catch (error) {
    return {};
  }
}

function remembered() {
  try {
    return window.localStorage.getItem(STORE_KEY);
  } catch (error) {
    return null; // storage refused (private mode): the page still works, unremembered
  }
}

/** The language to show: the visitor's choice, else the node's pick, else English. */
export function chosenLanguage() {
  const stored = remembered();
  if (LANGUAGES.includes(stored)) return stored;
  const served = document.documentElement.lang;
  return LANGUAGES.includes(served) ? served : "en";
}

export function currentLanguage() {
  return current;
}

/** The message `key` with its {name} placeholders filled from `values`. */
export function t(key, values = {}) {
  let text = messages[key] ?? english[key] ?? key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

/** Whether the catalogue has a message `key` (a code the page knows words for). */
export function has(key) {
  return key in messages || key in english;
}

/** A chain time (seconds since 1970) as a date and time in the page's language, UTC. */
export function chainTime(seconds) {
  if (typeof seconds !== "number") return t("time.unknown");
  const format = new Intl.DateTimeFormat(current, { dateStyle: "long", timeStyle: "short", timeZone: "UTC" });
  return `${format.format(new Date(seconds * 1000))} UTC`;
}

/** Put every element's own words in place: [data-i18n] (text), [data-i18n-label] (aria-label). */
function translatePage() {
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
}

/** Load `language` and show the page's own words in it. */
export async function useLanguage(language) {
  if (!Object.keys(english).length) english = await load("en");
  current = LANGUAGES.includes(language) ? language : "en";
  messages = current === "en" ? english : await load(current);
  document.documentElement.lang = current;
  translatePage();
  // the page's words are in place (what a test waits for, since <html lang> comes first)
  document.documentElement.dataset.language = current;
  const select = document.getElementById("language");
  if (select) select.value = current;
}

/** The page's language switch: load the chosen language, remember it, call `redraw`. */
export async function setUpLanguages(redraw) {
  await useLanguage(chosenLanguage());
  const select = document.getElementById("language");
  if (!select) return;
  select.addEventListener("change", async () => {
    try {
      window.localStorage.setItem(STORE_KEY, select.value);
    } catch (error) {
      // not remembered; still switched for this visit
    }
    await useLanguage(select.value);
    redraw();
  });
}

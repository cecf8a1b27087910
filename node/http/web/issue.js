// The issuer page: a token and one document -> POST /v1/documents, then the receipt
// followed until the batch is anchored, then the printable certificate and verify link.
import { call, el, fill } from "./show.js";
import { chainTime, setUpLanguages, t } from "./i18n.js";

const POLL_MS = 1000;
const GIVE_UP_AFTER_MS = 5 * 60 * 1000;

const $ = (id) => document.getElementById(id);
// A node issues each document number once per type (409 document-number-taken): every
// sample loaded gets a number of its own, so trying the page twice works.
const NUMBER_FIELDS = ["certificateNumber", "permitNumber", "declarationNumber"];
function freshNumber(sample) {
  const copy = JSON.parse(JSON.stringify(sample));
  const suffix = Date.now().toString(36).toUpperCase();
  for (const field of NUMBER_FIELDS) {
    if (typeof copy[field] === "string") copy[field] = `${copy[field]}-${suffix}`;
  }
  return copy;
}

let samples = {};

function authorization() {
  return { Authorization: `Bearer ${$("token").value.trim()}` };
}

function outcome(title, problem) {
  const section = $("outcome");
  section.hidden = false;
  const heading = $("outcome-title");
  heading.textContent = title;
  heading.className = problem ? "problem" : "";
  return section;
}

function fact(term, value, mono = false) {
  if (value === null || value === undefined || value === "") return [];
  return [el("dt", {}, term), el("dd", { class: mono ? "mono" : null }, String(value))];
}

function showReceipt(receipt) {
  fill(
    $("receipt"),
    fact(t("issue.receipt"), receipt.id, true),
    fact(t("issue.status"), receipt.status),
    fact(t("fact.targetHash"), receipt.targetHash, true),
    fact(t("fact.batchRoot"), receipt.batchRoot, true),
    fact(t("issue.block"), receipt.blockNumber),
    fact(t("issue.anchoredAt"), receipt.anchoredAt ? chainTime(receipt.anchoredAt) : null),
    fact(t("fact.tx"), receipt.txHash, true),
    fact(t("fact.cid"), receipt.cid, true),
  );
}

async function certificateLink(receipt) {
  const language = document.documentElement.lang;
  const answer = await fetch(`v1/documents/${receipt.id}/certificate.pdf?lang=${language}`, { headers: authorization() })
    .catch(() => null);
  if (!answer || !answer.ok) {
    return el("span", { class: "hint", id: "certificate-missing" },
      t("issue.noPdf"));
  }
  const url = URL.createObjectURL(await answer.blob());
  return el("a", { href: url, download: `certificate-${receipt.id}.pdf`, id: "certificate-link" },
    t("issue.downloadPdf"));
}

async function showAnchored(receipt) {
  const section = outcome(t("issue.anchored"), false);
  showReceipt(receipt);
  const verify = el("a", { href: `v/${receipt.targetHash}`, id: "verify-link" }, t("issue.openVerify"));
  const share = el("span", { class: "mono" }, new URL(`v/${receipt.targetHash}`, document.baseURI).href);
  fill($("links"), verify, share, await certificateLink(receipt));
  $("progress").textContent = t("issue.anchoredShort");
  section.focus();
}

async function follow(receiptUrl, started) {
  const answer = await call(receiptUrl.replace(/^\//, ""), { headers: authorization() });
  if (!answer.ok || !answer.body) {
    outcome(t("issue.receiptUnreadable"), true);
    fill($("links"), answer.message);
    $("progress").textContent = answer.message;
    return;
  }
  const receipt = answer.body;
  showReceipt(receipt);
  if (receipt.status === "anchored") {
    await showAnchored(receipt);
  } else if (receipt.status === "failed") {
    outcome(t("issue.failed"), true);
    fill($("links"), receipt.error || t("issue.seeLog"));
    $("progress").textContent = t("issue.failedShort");
  } else if (Date.now() - started > GIVE_UP_AFTER_MS) {
    $("progress").textContent = t("issue.stillPending");
  } else {
    $("progress").textContent = t("issue.waiting", { status: receipt.status });
    window.setTimeout(() => follow(receiptUrl, started), POLL_MS);
  }
}

async function submit(event) {
  event.preventDefault();
  const text = $("document").value.trim();
  if (!$("token").value.trim()) {
    $("progress").textContent = t("issue.tokenFirst");
    $("token").focus();
    return;
  }
  if (!text) {
    $("progress").textContent = t("issue.documentFirst");
    $("document").focus();
    return;
  }
  const query = $("confidential").checked ? "?confidential=true" : "";
  $("submit").disabled = true;
  $("progress").textContent = t("issue.submitting");
  const answer = await call(`v1/documents${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authorization() },
    body: text,
  });
  $("submit").disabled = false;
  if (!answer.ok || !answer.body) {
    const section = outcome(t("issue.notAccepted"), true);
    fill($("receipt"));
    fill($("links"), answer.message);
    $("progress").textContent = answer.message;
    section.focus();
    return;
  }
  const [first] = answer.body.receipts;
  outcome(t("issue.accepted"), false);
  fill($("links"));
  await follow(first.url, Date.now());
}

function fillTypes() {
  const chosen = $("type").value;
  fill($("type"), Object.keys(samples).map((type) => el("option", { value: type }, `${t(`type.${type}`)} (${type})`)));
  if (chosen) $("type").value = chosen;
}

async function setUp() {
  // the buttons work from the start; a click before the samples arrive waits for them
  const loaded = call("web/samples.json").then((answer) => {
    samples = answer.ok && answer.body ? answer.body : {};
  });
  $("load-sample").addEventListener("click", async () => {
    await loaded;
    const sample = samples[$("type").value || Object.keys(samples)[0]];
    if (sample) $("document").value = JSON.stringify(freshNumber(sample), null, 2);
  });
  $("issue-form").addEventListener("submit", submit);
  await setUpLanguages(fillTypes);
  await loaded;
  fillTypes();
}

setUp();

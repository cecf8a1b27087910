// The issuer page: a token and one document -> POST /v1/documents, then the receipt
// followed until the batch is anchored, then the printable certificate and verify link.
import { call, chainTime, el, fill } from "./show.js";

const POLL_MS = 1000;
const GIVE_UP_AFTER_MS = 5 * 60 * 1000;

const $ = (id) => document.getElementById(id);
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
    fact("Receipt", receipt.id, true),
    fact("Status", receipt.status),
    fact("Target hash", receipt.targetHash, true),
    fact("Batch root", receipt.batchRoot, true),
    fact("Block", receipt.blockNumber),
    fact("Anchored", receipt.anchoredAt ? chainTime(receipt.anchoredAt) : null),
    fact("Transaction", receipt.txHash, true),
    fact("Content (CID)", receipt.cid, true),
  );
}

async function certificateLink(receipt) {
  const answer = await fetch(`v1/documents/${receipt.id}/certificate.pdf`, { headers: authorization() })
    .catch(() => null);
  if (!answer || !answer.ok) {
    return el("span", { class: "hint", id: "certificate-missing" },
      "The printable certificate is not available from this node.");
  }
  const url = URL.createObjectURL(await answer.blob());
  return el("a", { href: url, download: `certificate-${receipt.id}.pdf`, id: "certificate-link" },
    "Download the printable certificate (PDF)");
}

async function showAnchored(receipt) {
  const section = outcome("Anchored: the document is issued", false);
  showReceipt(receipt);
  const verify = el("a", { href: `v/${receipt.targetHash}`, id: "verify-link" }, "Open its verification page");
  const share = el("span", { class: "mono" }, new URL(`v/${receipt.targetHash}`, document.baseURI).href);
  fill($("links"), verify, share, await certificateLink(receipt));
  $("progress").textContent = "Anchored.";
  section.focus();
}

async function follow(receiptUrl, started) {
  const answer = await call(receiptUrl.replace(/^\//, ""), { headers: authorization() });
  if (!answer.ok || !answer.body) {
    outcome("Could not read the receipt", true);
    fill($("links"), answer.message);
    $("progress").textContent = answer.message;
    return;
  }
  const receipt = answer.body;
  showReceipt(receipt);
  if (receipt.status === "anchored") {
    await showAnchored(receipt);
  } else if (receipt.status === "failed") {
    outcome("The batch failed to anchor", true);
    fill($("links"), receipt.error || "See the node's log.");
    $("progress").textContent = "Failed.";
  } else if (Date.now() - started > GIVE_UP_AFTER_MS) {
    $("progress").textContent = "Still pending after 5 minutes; check the receipt later.";
  } else {
    $("progress").textContent = `Accepted; waiting for the anchor (${receipt.status})…`;
    window.setTimeout(() => follow(receiptUrl, started), POLL_MS);
  }
}

async function submit(event) {
  event.preventDefault();
  const text = $("document").value.trim();
  if (!$("token").value.trim()) {
    $("progress").textContent = "Enter your access token first.";
    $("token").focus();
    return;
  }
  if (!text) {
    $("progress").textContent = "Enter or load a document first.";
    $("document").focus();
    return;
  }
  const query = $("confidential").checked ? "?confidential=true" : "";
  $("submit").disabled = true;
  $("progress").textContent = "Submitting…";
  const answer = await call(`v1/documents${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authorization() },
    body: text,
  });
  $("submit").disabled = false;
  if (!answer.ok || !answer.body) {
    const section = outcome("Not accepted", true);
    fill($("receipt"));
    fill($("links"), answer.message);
    $("progress").textContent = answer.message;
    section.focus();
    return;
  }
  const [first] = answer.body.receipts;
  outcome("Accepted", false);
  fill($("links"));
  await follow(first.url, Date.now());
}

async function setUp() {
  const answer = await call("web/samples.json");
  samples = answer.ok && answer.body ? answer.body : {};
  fill($("type"), Object.keys(samples).map((type) => el("option", { value: type }, type)));
  $("load-sample").addEventListener("click", () => {
    const sample = samples[$("type").value];
    if (sample) $("document").value = JSON.stringify(sample, null, 2);
  });
  $("issue-form").addEventListener("submit", submit);
}

setUp();

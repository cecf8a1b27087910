// The verifier page: a file, pasted JSON or a reference -> the node's verdict, shown as
// checks in green or red with their reasons, the document and its history on the chain.
// The page decides on each check's stable `code` (docs/verification-codes.md), never on
// its English reason nor on which `data` keys happen to be there.
import { call, chainTime, el, fill } from "./show.js";

const CHECK_TITLES = {
  integrity: "Integrity",
  signature: "Issuer's signature",
  issuance: "Anchored on the chain",
  issuer: "Authorised issuer",
  status: "Status",
  recognition: "Recognition",
};
// the codes the page acts on (a published code never changes)
const CODES = { intact: "intact", anchored: "anchored", authorised: "authorised", superseded: "superseded" };
const STATUS_WORDS = { valid: "passed", invalid: "failed", skipped: "not run", error: "error" };
const MARKS = { valid: "✓", invalid: "✗", skipped: "–", error: "!" };
const EVENT_TITLES = {
  BatchAnchored: "Anchored (issued)",
  DocumentRevoked: "Revoked",
  DocumentSuperseded: "Superseded by an amendment",
  DocumentUsed: "Used against a declaration",
  DocumentRejected: "Rejected by an addressee",
};

const $ = (id) => document.getElementById(id);

function setBusy(busy, text) {
  for (const button of document.querySelectorAll("button")) button.disabled = busy;
  $("progress").textContent = text;
}

function showProblem(message) {
  const result = $("result");
  result.hidden = false;
  const verdict = $("verdict");
  verdict.className = "verdict invalid";
  verdict.textContent = "Could not verify";
  $("verdict-detail").textContent = message;
  $("replacement").hidden = true;
  fill($("checks"));
  fill($("document"));
  $("document-note").hidden = true;
  $("fields-box").hidden = true;
  fill($("history"));
  $("history-note").textContent = "";
  $("progress").textContent = message;
  result.focus();
}

function checkItem(check) {
  const status = STATUS_WORDS[check.status] ? check.status : "error";
  return el(
    "li",
    { class: `check ${status}`, "data-check": check.name, "data-status": status, "data-code": check.code || null },
    el("span", { class: "mark", "aria-hidden": "true" }, MARKS[status]),
    el("span", { class: "name" }, `${CHECK_TITLES[check.name] || check.name}: ${STATUS_WORDS[status]}`),
    el("span", { class: "reason" }, check.reason || ""),
  );
}

function fact(term, value, mono = false) {
  if (value === null || value === undefined || value === "") return [];
  return [el("dt", {}, term), el("dd", { class: mono ? "mono" : null }, String(value))];
}

function issuerName(data) {
  if (!data || typeof data !== "object") return null;
  for (const key of ["issuingAuthority", "issuingMinistry", "customsOffice"]) {
    if (data[key] && typeof data[key].name === "string") return data[key].name;
  }
  return null;
}

function issueDate(data) {
  if (!data || typeof data !== "object") return null;
  return data.issueDate || data.declarationDate || data.validFrom || null;
}

function checkNamed(verdict, name) {
  return (verdict.checks || []).find((c) => c.name === name) || {};
}

/** The data of check `name` when its outcome is `code`, else nothing. */
function dataIf(verdict, name, code) {
  const check = checkNamed(verdict, name);
  return (check.code === code && check.data) || {};
}

/** What the page shows of the document: from the node's summary (by reference) or
 * from the presented wrapped document and the checks' data (file, pasted JSON). */
function summaryOf(verdict, presented) {
  if (verdict.document) return verdict.document;
  const issuance = dataIf(verdict, "issuance", CODES.anchored);
  const issuer = dataIf(verdict, "issuer", CODES.authorised);
  const anchored = checkNamed(verdict, "issuance").code === CODES.anchored;
  const batch = (presented && presented.batch) || {};
  const data = presented && presented.data;
  return {
    documentType: batch.documentType,
    issuerCountry: issuance.issuerCountry || issuer.country || null,
    issuerName: issuerName(data),
    targetHash: presented && presented.targetHash,
    batchRoot: batch.root,
    addressees: batch.addressees || [],
    signer: presented && presented.signature && presented.signature.signer,
    confidential: false,
    anchoring: !anchored ? null : {
      blockNumber: issuance.blockNumber,
      timestamp: issuance.timestamp,
      txHash: issuance.txHash,
    },
    data: data || null,
  };
}

function showDocument(summary) {
  const anchoring = summary.anchoring;
  fill(
    $("document"),
    fact("Type", summary.documentType),
    fact("Issuer", summary.issuerName),
    fact("Issuer's country", summary.issuerCountry),
    fact("Issued on", issueDate(summary.data)),
    fact("Anchored", anchoring ? `${chainTime(anchoring.timestamp)}, block ${anchoring.blockNumber}` : "not anchored"),
    fact("Addressed to", (summary.addressees || []).join(", ") || "no addressee"),
    fact("Confidential", summary.confidential ? "yes: its content is shown only to its issuer and addressees" : null),
    fact("Signed by", summary.signer, true),
    fact("Target hash", summary.targetHash, true),
    fact("Batch root", summary.batchRoot, true),
    fact("Transaction", anchoring && anchoring.txHash, true),
    fact("Content (CID)", summary.cid, true),
  );
  const box = $("fields-box");
  if (summary.data && !summary.confidential) {
    $("fields").textContent = JSON.stringify(summary.data, null, 2);
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

function showHistory(events, note) {
  $("history-note").textContent = note;
  fill(
    $("history"),
    (events || []).map((entry) =>
      el(
        "li",
        { "data-event": entry.event },
        el("span", { class: "event" }, EVENT_TITLES[entry.event] || entry.event),
        el("br"),
        el("span", { class: "when" }, `${chainTime(entry.timestamp)} · block ${entry.blockNumber}`),
        el("br"),
        el("span", { class: "mono when" }, `transaction ${entry.txHash}`),
      ),
    ),
  );
}

function replacementOf(verdict) {
  if (verdict.supersededBy && verdict.supersededBy.targetHash) return verdict.supersededBy.targetHash;
  return dataIf(verdict, "status", CODES.superseded).successorTargetHash || null;
}

function showVerdict(verdict, presented) {
  const result = $("result");
  result.hidden = false;
  const heading = $("verdict");
  heading.className = `verdict ${verdict.valid ? "valid" : "invalid"}`;
  heading.textContent = verdict.valid ? "✓ Valid document" : "✗ Not valid";
  const failed = (verdict.checks || []).filter((c) => c.status === "invalid" || c.status === "error");
  $("verdict-detail").textContent = verdict.valid
    ? "Every check passed."
    : `Failed: ${failed.map((c) => CHECK_TITLES[c.name] || c.name).join(", ") || "no check could run"}.`;

  const successor = replacementOf(verdict);
  const replacement = $("replacement");
  if (successor) {
    fill(
      replacement,
      "This document was amended. The replacement: ",
      el("a", { href: `v/${successor}`, class: "mono", id: "replacement-link" }, successor),
    );
    replacement.hidden = false;
  } else {
    replacement.hidden = true;
  }
  fill($("checks"), (verdict.checks || []).map(checkItem));
  const summary = summaryOf(verdict, presented);
  showDocument(summary);
  const note = $("document-note");
  note.hidden = !presented || checkNamed(verdict, "integrity").code === CODES.intact;
  note.textContent = "Shown as presented: this is not what the issuer anchored.";
  if (verdict.history) {
    showHistory(verdict.history, verdict.history.length ? "" : "No event of this document is indexed yet.");
  } else {
    showHistory([], "Looking for the history…");
  }
  $("progress").textContent = verdict.valid ? "Verified: valid." : "Verified: not valid.";
  result.focus();
  return summary;
}

/** After a presented document verified intact: its history, when this node holds it. */
async function followHistory(verdict, summary) {
  if (!summary.targetHash || checkNamed(verdict, "integrity").code !== CODES.intact) {
    showHistory([], "No history: the document is not intact.");
    return;
  }
  const answer = await call(`v1/verify/${encodeURIComponent(summary.targetHash)}`);
  if (answer.ok && answer.body) {
    showHistory(answer.body.history, answer.body.history.length ? "" : "No event indexed yet.");
    if (answer.body.document && !summary.cid) showDocument({ ...summary, cid: answer.body.document.cid });
  } else {
    showHistory([], "This node holds no copy of this document, so it shows no history.");
  }
}

async function verifyBody(body, contentType, presented) {
  setBusy(true, "Verifying…");
  const options = { method: "POST", body };
  if (contentType) options.headers = { "Content-Type": contentType };
  const answer = await call("v1/verify", options);
  setBusy(false, "");
  if (!answer.ok || !answer.body) {
    showProblem(answer.message);
    return;
  }
  const summary = showVerdict(answer.body, presented);
  await followHistory(answer.body, summary);
}

async function verifyReference(ref) {
  setBusy(true, "Verifying…");
  const answer = await call(`v1/verify/${encodeURIComponent(ref)}`);
  setBusy(false, "");
  if (!answer.ok || !answer.body) {
    showProblem(answer.message);
    return;
  }
  showVerdict(answer.body, null);
}

function parsedOrNull(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    return null;
  }
}

async function verifyFile(file) {
  if (!file) {
    showProblem("Choose a file first.");
    return;
  }
  const text = await file.text();
  const form = new FormData();
  form.append("file", file, file.name);
  await verifyBody(form, null, parsedOrNull(text));
}

function setUp() {
  const fileInput = $("file");
  $("by-file").addEventListener("submit", (event) => {
    event.preventDefault();
    verifyFile(fileInput.files[0]);
  });
  $("by-json").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("json").value.trim();
    if (!text) {
      showProblem("Paste a wrapped document first.");
      return;
    }
    verifyBody(text, "application/json", parsedOrNull(text));
  });
  $("by-ref").addEventListener("submit", (event) => {
    event.preventDefault();
    const ref = $("ref").value.trim();
    if (!ref) {
      showProblem("Enter a target hash, receipt id or CID first.");
      return;
    }
    history.replaceState(null, "", `?ref=${encodeURIComponent(ref)}`);
    verifyReference(ref);
  });

  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (files && files.length) {
      fileInput.files = files;
      verifyFile(files[0]);
    }
  });

  const ref = new URLSearchParams(window.location.search).get("ref");
  if (ref) {
    $("ref").value = ref;
    verifyReference(ref);
  }
}

setUp();

// The verifier page, for a customs officer: the verdict first, in plain words; the
// document as a readable certificate; each check with a plain-language reason chosen by its
// stable `code` (docs/verification-codes.md; never by its English reason nor by which
// `data` keys are there), the node's own words and facts one click away; revocation and
// amendment with date and reason from the history; for an altered document, the fields
// that differ from the original this node holds; a printed certificate (PDF) recognised
// by the link it carries. Every word of the page's own comes from the language catalogue.
import { call, el, fill } from "./show.js";
import { chainTime, has, setUpLanguages, t } from "./i18n.js";
import { at, certificateView, documentNumber, leaves, typeName } from "./certificate.js";

// the codes the page acts on (a published code never changes)
const CODES = {
  intact: "intact",
  anchored: "anchored",
  authorised: "authorised",
  superseded: "superseded",
  revoked: "revoked",
  expired: "expired",
  targetHashMismatch: "target-hash-mismatch",
  saltsInvalid: "salts-invalid",
};
const MARKS = { valid: "✓", invalid: "✗", skipped: "–", error: "!" };
const FACT_LABELS = {
  signer: "fact.signer",
  chainId: "fact.chainId",
  verifyingContract: "fact.registry",
  blockNumber: "fact.block",
  timestamp: "fact.time",
  txHash: "fact.tx",
  issuerCountry: "fact.issuerCountry",
  targetHash: "fact.targetHash",
  batchRoot: "fact.batchRoot",
  root: "fact.batchRoot",
};
const PDF_LINK = /\/v\/(0x[0-9a-fA-F]{64})(?![0-9a-fA-F])/;

const $ = (id) => document.getElementById(id);

/** What the page shows; drawn again, as it is, when the language changes. */
let shown = null;

function setBusy(busy, text) {
  for (const button of document.querySelectorAll("button")) button.disabled = busy;
  $("progress").textContent = text;
}

function checkNamed(verdict, name) {
  return (verdict.checks || []).find((c) => c.name === name) || {};
}

/** The data of check `name` when its outcome is `code`, else nothing. */
function dataIf(verdict, name, code) {
  const check = checkNamed(verdict, name);
  return (check.code === code && check.data) || {};
}

/** A check's reason in plain words, by its code; the node's words when the code is new. */
function plainReason(check) {
  if (check.code && has(`code.${check.code}`)) return t(`code.${check.code}`);
  return check.reason || t("code.unknown");
}

function factValue(key, value) {
  if (key === "timestamp" && typeof value === "number") return chainTime(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function technicalFacts(check) {
  const rows = [];
  for (const [key, value] of Object.entries(check.data || {})) {
    if (value === null || value === undefined || value === "") continue;
    rows.push(el("dt", {}, FACT_LABELS[key] ? t(FACT_LABELS[key]) : key));
    rows.push(el("dd", { class: "mono" }, factValue(key, value)));
  }
  return el(
    "details",
    { class: "technical" },
    el("summary", {}, t("verdict.technical")),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, t("fact.code")),
      el("dd", { class: "mono" }, check.code || "–"),
      el("dt", {}, t("verdict.technicalReason")),
      el("dd", { lang: "en" }, check.reason || ""),
      rows,
    ),
  );
}

function checkItem(check) {
  const status = MARKS[check.status] ? check.status : "error";
  return el(
    "li",
    { class: `check ${status}`, "data-check": check.name, "data-status": status, "data-code": check.code || null },
    el("span", { class: "mark", "aria-hidden": "true" }, MARKS[status]),
    el("span", { class: "name" }, `${has(`check.${check.name}`) ? t(`check.${check.name}`) : check.name}: ${t(`status.${status}`)}`),
    el("span", { class: "reason" }, plainReason(check)),
    technicalFacts(check),
  );
}

function issuerName(data) {
  if (!data || typeof data !== "object") return null;
  for (const key of ["issuingAuthority", "issuingMinistry", "customsOffice"]) {
    if (data[key] && typeof data[key].name === "string") return data[key].name;
  }
  return null;
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
  const concealed = presented && presented.concealed && typeof presented.concealed === "object"
    ? Object.keys(presented.concealed) : [];
  return {
    documentType: batch.documentType,
    issuerCountry: issuance.issuerCountry || issuer.country || null,
    issuerName: issuerName(data),
    targetHash: presented && presented.targetHash,
    batchRoot: batch.root,
    addressees: batch.addressees || [],
    signer: presented && presented.signature && presented.signature.signer,
    confidential: false,
    concealedFields: concealed,
    anchoring: !anchored ? null : { blockNumber: issuance.blockNumber, timestamp: issuance.timestamp, txHash: issuance.txHash },
    data: data || null,
  };
}

function fact(term, value, mono = false) {
  if (value === null || value === undefined || value === "") return [];
  return [el("dt", {}, term), el("dd", { class: mono ? "mono" : null }, String(value))];
}

function showDocument(summary) {
  fill($("certificate"), certificateView(summary));
  const anchoring = summary.anchoring;
  fill(
    $("document"),
    fact(t("doc.type"), summary.documentType, true),
    fact(t("doc.issuerCountry"), summary.issuerCountry),
    fact(t("doc.anchored"), anchoring
      ? `${chainTime(anchoring.timestamp)}, ${t("history.block", { block: anchoring.blockNumber })}`
      : t("doc.notAnchored")),
    fact(t("fact.signer"), summary.signer, true),
    fact(t("fact.targetHash"), summary.targetHash, true),
    fact(t("fact.batchRoot"), summary.batchRoot, true),
    fact(t("fact.tx"), anchoring && anchoring.txHash, true),
    fact(t("fact.cid"), summary.cid, true),
  );
  const box = $("fields-box");
  if (summary.data && !summary.confidential) {
    $("fields").textContent = JSON.stringify(summary.data, null, 2);
    box.hidden = false;
  } else {
    box.hidden = true;
  }
}

/** A revocation or rejection reason code in words (the codes the demo and docs use). */
function reasonWords(code) {
  if (code === undefined || code === null) return t("reason.none");
  return has(`reason.${code}`) ? `${t(`reason.${code}`)} (${t("reason.code", { code })})` : t("reason.code", { code });
}

function showHistory(events, note) {
  $("history-note").textContent = note;
  fill(
    $("history"),
    (events || []).map((entry) => {
      const reason = entry.arguments && entry.arguments.reasonCode;
      return el(
        "li",
        { "data-event": entry.event },
        el("span", { class: "event" }, has(`event.${entry.event}`) ? t(`event.${entry.event}`) : entry.event),
        reason !== undefined ? [el("br"), el("span", {}, t("event.reason", { reason: reasonWords(reason) }))] : [],
        el("br"),
        el("span", { class: "when" }, `${chainTime(entry.timestamp)} · ${t("history.block", { block: entry.blockNumber })}`),
        el("br"),
        el("span", { class: "mono when" }, t("history.tx", { tx: entry.txHash })),
      );
    }),
  );
}

function replacementOf(verdict) {
  if (verdict.supersededBy && verdict.supersededBy.targetHash) return verdict.supersededBy.targetHash;
  return dataIf(verdict, "status", CODES.superseded).successorTargetHash || null;
}

/** Revocation, amendment or expiry, with date and reason, above the checks. */
function showStatusNotice(verdict, events) {
  const status = checkNamed(verdict, "status");
  const last = (name) => [...(events || [])].reverse().find((entry) => entry.event === name);
  let text = null;
  if (status.code === CODES.revoked) {
    const event = last("DocumentRevoked");
    text = t("notice.revoked", {
      date: event ? chainTime(event.timestamp) : t("time.unknown"),
      reason: reasonWords(event && event.arguments ? event.arguments.reasonCode : null),
    });
  } else if (status.code === CODES.superseded) {
    const event = last("DocumentSuperseded");
    text = t("notice.superseded", { date: event ? chainTime(event.timestamp) : t("time.unknown") });
  } else if (status.code === CODES.expired) {
    text = t("notice.expired", { date: (status.data && status.data.validUntil) || "" });
  }
  const notice = $("status-notice");
  notice.hidden = !text;
  notice.dataset.code = text ? status.code : "";
  notice.textContent = text || "";

  const successor = replacementOf(verdict);
  const replacement = $("replacement");
  replacement.hidden = !successor;
  if (successor) {
    fill(replacement, `${t("notice.replacement")} `,
      el("a", { href: `v/${successor}`, class: "mono", id: "replacement-link" }, successor));
  }
}

/** The fields whose revealed values differ between the presented and the held document. */
function changedFields(presented, held) {
  const concealed = Object.keys((presented && presented.concealed) || {});
  const hidden = (pointer) => concealed.some((c) => pointer === c || pointer.startsWith(`${c}/`));
  const mine = leaves(presented.data || {});
  const theirs = leaves(held || {});
  const pointers = [...new Set([...mine.keys(), ...theirs.keys()])].filter((p) => !hidden(p)).sort();
  return pointers
    .filter((pointer) => mine.get(pointer) !== theirs.get(pointer))
    .map((pointer) => ({ pointer, presented: at(presented.data, pointer), original: at(held, pointer) }));
}

// the labels of a document's top-level fields, for naming a changed field in words
const FIELD_LABELS = {
  certificateNumber: "doc.number", permitNumber: "doc.number", declarationNumber: "doc.number",
  exporter: "doc.exporter", producer: "doc.producer", importer: "doc.importer",
  holder: "doc.holder", declarant: "doc.declarant", customsOffice: "doc.customsOffice",
  importingCountry: "doc.importingCountry", ftaForm: "doc.ftaForm", transport: "doc.transport",
  items: "doc.goods", goods: "doc.goods", issueDate: "doc.issueDate", remarks: "doc.remarks",
  validity: "doc.validity", conditions: "doc.conditions", kind: "doc.kind",
  issuingAuthority: "doc.issuer", issuingMinistry: "doc.issuer", references: "doc.references",
};

/** A changed field in words: its top-level field's label, then the rest of its path. */
function fieldName(pointer) {
  const [, top, ...rest] = pointer.split("/");
  const label = FIELD_LABELS[top] ? t(FIELD_LABELS[top]) : top;
  return [label, ...rest.map((part) => (/^\d+$/.test(part) ? `#${Number(part) + 1}` : part))].join(" › ");
}

function shownValue(value) {
  if (value === undefined) return t("changed.absent");
  return typeof value === "string" ? value : JSON.stringify(value);
}

function showChanged(comparison) {
  const section = $("changed");
  section.hidden = !comparison;
  if (!comparison) return;
  const table = $("changed-fields");
  if (!comparison.held || comparison.undisclosed) {
    $("changed-intro").textContent = t(comparison.held ? "changed.notPublic" : "changed.noOriginal");
    table.hidden = true;
    return;
  }
  $("changed-intro").textContent = comparison.fields.length ? t("changed.intro") : t("changed.none");
  table.hidden = !comparison.fields.length;
  fill(
    $("changed-rows"),
    comparison.fields.map((change) =>
      el(
        "tr",
        { "data-field": change.pointer },
        el("th", { scope: "row" }, fieldName(change.pointer), el("br"),
          el("span", { class: "mono pointer" }, change.pointer)),
        el("td", { "data-label": t("changed.presented") }, shownValue(change.presented)),
        el("td", { "data-label": t("changed.original") }, shownValue(change.original)),
      ),
    ),
  );
}

function verdictDetail(verdict, summary) {
  if (verdict.valid) {
    const number = documentNumber(summary.data);
    const issuer = summary.issuerName || summary.issuerCountry;
    return number && issuer
      ? t("verdict.validDetail", { type: typeName(summary.documentType, summary.data), number, issuer })
      : t("verdict.validDetailShort");
  }
  const failed = (verdict.checks || []).find((c) => c.status === "invalid" || c.status === "error");
  return t("verdict.invalidDetail", { reason: failed ? plainReason(failed) : t("verdict.noCheckRan") });
}

function draw() {
  if (!shown) return;
  const result = $("result");
  result.hidden = false;
  const heading = $("verdict");
  const detail = $("verdict-detail");
  const note = $("source-note");
  note.hidden = !shown.sourceNote;
  note.textContent = shown.sourceNote ? t(shown.sourceNote.key, shown.sourceNote.values) : "";
  if (shown.problem) {
    heading.className = "verdict invalid";
    heading.textContent = `✗ ${t("verify.couldNot")}`;
    detail.textContent = shown.problem.key ? t(shown.problem.key) : shown.problem.text;
    for (const id of ["status-notice", "replacement", "changed", "document-note", "fields-box"]) $(id).hidden = true;
    fill($("checks"));
    fill($("certificate"));
    fill($("document"));
    fill($("history"));
    $("history-note").textContent = "";
    $("progress").textContent = detail.textContent;
    return;
  }
  const { verdict, presented } = shown;
  const summary = summaryOf(verdict, presented);
  heading.className = `verdict ${verdict.valid ? "valid" : "invalid"}`;
  heading.textContent = verdict.valid ? `✓ ${t("verdict.valid")}` : `✗ ${t("verdict.invalid")}`;
  detail.textContent = verdictDetail(verdict, summary);
  showStatusNotice(verdict, shown.history);
  showChanged(shown.comparison);
  fill($("checks"), (verdict.checks || []).map(checkItem));
  showDocument({ ...summary, cid: summary.cid || shown.cid });
  const documentNote = $("document-note");
  documentNote.hidden = !presented || checkNamed(verdict, "integrity").code === CODES.intact;
  documentNote.textContent = t("changed.presentedNote");
  showHistory(shown.history, shown.historyNote ? t(shown.historyNote) : "");
  $("progress").textContent = verdict.valid ? t("verify.doneValid") : t("verify.doneInvalid");
}

function show(state, focus = true) {
  shown = state;
  draw();
  // the verdict is at the top: take the focus (a screen reader reads it next) without
  // scrolling the page past it
  if (focus) $("result").focus({ preventScroll: true });
}

function showProblem(problem) {
  show({ problem });
}

/** After a presented document verified: its history when intact, or the fields that
 * differ from the original when altered, from what this node holds by its target hash. */
async function followUp(state) {
  const { verdict, presented } = state;
  const integrity = checkNamed(verdict, "integrity").code;
  const targetHash = presented && typeof presented.targetHash === "string" ? presented.targetHash : null;
  const altered = integrity === CODES.targetHashMismatch || integrity === CODES.saltsInvalid;
  if (!targetHash || (integrity !== CODES.intact && !altered)) {
    show({ ...state, history: [], historyNote: "history.notIntact" }, false);
    return;
  }
  const answer = await call(`v1/verify/${encodeURIComponent(targetHash)}`);
  const held = answer.ok && answer.body ? answer.body : null;
  if (altered) {
    // the node shows no field of a document by its hash (ADR 0023): only that it holds it
    const original = held && held.document ? held.document.data : null;
    show({
      ...state,
      history: [],
      historyNote: "history.notIntact",
      comparison: {
        held: Boolean(held && held.document),
        undisclosed: Boolean(held && held.document) && !original,
        fields: original ? changedFields(presented, original) : [],
      },
    }, false);
    return;
  }
  if (held) {
    show({
      ...state,
      history: held.history || [],
      historyNote: held.history && held.history.length ? null : "history.none",
      cid: held.document && held.document.cid,
    }, false);
  } else {
    show({ ...state, history: [], historyNote: "history.notHeld" }, false);
  }
}

async function verifyBody(body, contentType, presented) {
  setBusy(true, t("verify.busy"));
  const options = { method: "POST", body };
  if (contentType) options.headers = { "Content-Type": contentType };
  const answer = await call("v1/verify", options);
  setBusy(false, "");
  if (!answer.ok || !answer.body) {
    showProblem({ text: answer.status === 0 ? t("verify.unreachable") : answer.message });
    return;
  }
  const state = { verdict: answer.body, presented, history: [], historyNote: "history.looking" };
  show(state);
  await followUp(state);
}

async function verifyReference(ref, sourceNote = null) {
  setBusy(true, t("verify.busy"));
  const answer = await call(`v1/verify/${encodeURIComponent(ref)}`);
  setBusy(false, "");
  if (!answer.ok || !answer.body) {
    showProblem({ text: answer.status === 0 ? t("verify.unreachable") : answer.message });
    return;
  }
  const verdict = answer.body;
  show({
    verdict,
    presented: null,
    history: verdict.history || [],
    historyNote: verdict.history && verdict.history.length ? null : "history.none",
    sourceNote,
  });
}

function parsedOrNull(text) {
  try {
    return JSON.parse(text);
  } catch (error) {
    return null;
  }
}

/** A printed certificate: the reference its link names (document information, or the QR
 * code's link annotation), verified by reference; else how to verify it. */
async function verifyPrinted(bytes) {
  const text = new TextDecoder("latin1").decode(bytes);
  const found = PDF_LINK.exec(text);
  if (!found) {
    showProblem({ key: "pdf.noLink" });
    return;
  }
  const ref = found[1].toLowerCase();
  $("ref").value = ref;
  history.replaceState(null, "", `?ref=${encodeURIComponent(ref)}`);
  await verifyReference(ref, { key: "pdf.found", values: { ref } });
}

async function verifyFile(file) {
  if (!file) {
    showProblem({ key: "verify.chooseFile" });
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (new TextDecoder("latin1").decode(bytes.subarray(0, 1024)).trimStart().startsWith("%PDF-")) {
    await verifyPrinted(bytes);
    return;
  }
  const presented = parsedOrNull(new TextDecoder().decode(bytes));
  if (presented === null) {
    // neither a PDF nor JSON: say what is expected rather than the parser's complaint
    showProblem({ key: "verify.notJson" });
    return;
  }
  const form = new FormData();
  form.append("file", file, file.name);
  await verifyBody(form, null, presented);
}

function setUpForms() {
  const fileInput = $("file");
  $("by-file").addEventListener("submit", (event) => {
    event.preventDefault();
    verifyFile(fileInput.files[0]);
  });
  $("by-json").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("json").value.trim();
    if (!text) {
      showProblem({ key: "verify.pasteFirst" });
      return;
    }
    verifyBody(text, "application/json", parsedOrNull(text));
  });
  $("by-ref").addEventListener("submit", (event) => {
    event.preventDefault();
    const ref = $("ref").value.trim();
    if (!ref) {
      showProblem({ key: "verify.refFirst" });
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
}

async function setUp() {
  setUpForms();
  await setUpLanguages(draw);
  const ref = new URLSearchParams(window.location.search).get("ref");
  if (ref) {
    // a QR code's link: the verdict is what the officer came for; the forms fold away
    $("inputs-box").open = false;
    $("ref").value = ref;
    verifyReference(ref);
  }
}

setUp();

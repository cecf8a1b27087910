// A document as a readable certificate: its type in words, number, parties, dates,
// transport, goods with origin criteria, conditions. Field values are shown exactly as
// issued (never translated); only the labels come from the catalogue.
import { el } from "./show.js";
import { t } from "./i18n.js";

function at(data, pointer) {
  let node = data;
  for (const token of pointer.split("/").slice(1)) {
    if (node === null || typeof node !== "object" || !(token in node)) return undefined;
    node = node[token];
  }
  return node;
}

function party(value) {
  if (!value || typeof value !== "object") return null;
  return [value.name, value.address, value.country, value.identifier].filter(Boolean).join("\n");
}

function measure(value) {
  if (!value || typeof value !== "object") return "";
  return [value.value, value.unit].filter((part) => part !== undefined).join(" ");
}

function money(value) {
  if (!value || typeof value !== "object") return "";
  return [value.amount, value.currency].filter((part) => part !== undefined).join(" ");
}

function port(value) {
  if (!value || typeof value !== "object") return "";
  return value.unLocode ? `${value.name} (${value.unLocode})` : value.name || "";
}

/** The type in words, with the form a certificate of origin names ("Certificate of
 * origin (ATIGA Form D)": the form as issued), else the type's id. */
export function typeName(typeId, data = null) {
  const key = `type.${typeId}`;
  const words = t(key);
  if (words === key) return String(typeId || "");
  const form = data && typeof data === "object" && typeof data.ftaForm === "string" ? data.ftaForm : null;
  return form ? `${words} (${form})` : words;
}

/** The document's own number, whatever its type calls it. */
export function documentNumber(data) {
  if (!data || typeof data !== "object") return null;
  return data.certificateNumber || data.permitNumber || data.declarationNumber || null;
}

export function issueDate(data) {
  if (!data || typeof data !== "object") return null;
  return data.issueDate || data.declarationDate || null;
}

function row(labelKey, value, className = null) {
  if (value === null || value === undefined || value === "") return [];
  return [el("dt", {}, t(labelKey)), el("dd", { class: className }, String(value))];
}

function table(caption, headings, rows) {
  if (!rows.length) return [];
  return el(
    "div",
    { class: "table-scroll" },
    el(
      "table",
      { class: "goods" },
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, headings.map((heading) => el("th", { scope: "col" }, t(heading))))),
      // each cell names its column too: on a phone the rows stack as cards (docex.css)
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((cell, index) =>
        el("td", { "data-label": t(headings[index]) }, cell ?? ""))))),
    ),
  );
}

function cooView(data) {
  const transport = data.transport || {};
  const route = transport.portOfLoading || transport.portOfDischarge
    ? t("doc.route", { from: port(transport.portOfLoading), to: port(transport.portOfDischarge) })
    : "";
  const transportText = [
    transport.departureDate ? t("doc.departure", { date: transport.departureDate }) : "",
    transport.vesselOrFlight || "",
    route,
  ].filter(Boolean).join("\n");
  const facts = el(
    "dl",
    { class: "facts certificate-facts" },
    row("doc.exporter", party(data.exporter), "party"),
    row("doc.producer", party(data.producer), "party"),
    row("doc.importer", party(data.importer), "party"),
    row("doc.importingCountry", data.importingCountry),
    row("doc.ftaForm", data.ftaForm),
    row("doc.transport", transportText, "party"),
    row("doc.remarks", data.remarks),
  );
  const items = (Array.isArray(data.items) ? data.items : []).map((item) => [
    item.itemNumber,
    [item.description, item.marksAndPackages].filter(Boolean).join("\n"),
    item.hsCode,
    item.originCriterion,
    [measure(item.quantity), measure(item.grossWeight)].filter(Boolean).join("\n"),
    money(item.fobValue),
    item.invoice ? [item.invoice.number, item.invoice.date].filter(Boolean).join("\n") : "",
  ]);
  const goods = table(
    t("doc.goods"),
    ["doc.item", "doc.description", "doc.hsCode", "doc.origin", "doc.quantity", "doc.value", "doc.invoice"],
    items,
  );
  return [facts, goods];
}

function permitView(data) {
  const validity = data.validity || {};
  const facts = el(
    "dl",
    { class: "facts certificate-facts" },
    row("doc.holder", party(data.holder), "party"),
    row("doc.kind", data.kind ? t(`doc.kind.${data.kind}`) : null),
    row("doc.validity", validity.validFrom || validity.validUntil
      ? t("doc.validityRange", { from: validity.validFrom || "", until: validity.validUntil || "" })
      : null),
    row("doc.addressees", Array.isArray(data.addresseeCountries) ? data.addresseeCountries.join(", ") : null),
    row("doc.conditions", Array.isArray(data.conditions) ? data.conditions.join("\n") : null, "party"),
  );
  const goods = (Array.isArray(data.goods) ? data.goods : []).map((item, index) => [
    String(index + 1), item.description, item.hsCode, measure(item.quantity),
  ]);
  return [facts, table(t("doc.goods"), ["doc.item", "doc.description", "doc.hsCode", "doc.quantity"], goods)];
}

function declarationView(data) {
  const office = data.customsOffice || {};
  const facts = el(
    "dl",
    { class: "facts certificate-facts" },
    row("doc.declarant", party(data.declarant), "party"),
    row("doc.customsOffice", [office.name, office.code, office.country].filter(Boolean).join("\n"), "party"),
    row("doc.kind", data.kind ? t(`doc.kind.${data.kind}`) : null),
  );
  const items = (Array.isArray(data.items) ? data.items : []).map((item) => [
    item.itemNumber, item.description, item.hsCode, measure(item.quantity), money(item.customsValue), item.originCountry,
  ]);
  const references = (Array.isArray(data.references) ? data.references : []).map((reference) => [
    typeName(reference.documentType), reference.documentNumber, reference.issuingCountry,
  ]);
  return [
    facts,
    table(t("doc.goods"), ["doc.item", "doc.description", "doc.hsCode", "doc.quantity", "doc.value", "doc.originCountry"], items),
    table(t("doc.references"), ["doc.type", "doc.number", "doc.issuerCountry"], references),
  ];
}

const VIEWS = { "coo/1": cooView, "permit/1": permitView, "declaration/1": declarationView };

/** The readable certificate of `summary` (the node's document summary, or one made from
 * a presented document): a heading block and the type's own fields. */
export function certificateView(summary) {
  const data = summary.data && typeof summary.data === "object" ? summary.data : null;
  const head = el(
    "dl",
    { class: "facts certificate-head" },
    row("doc.type", typeName(summary.documentType, data)),
    row("doc.number", documentNumber(data)),
    row("doc.issuer", summary.issuerName),
    row("doc.issuerCountry", summary.issuerCountry),
    row("doc.issueDate", issueDate(data)),
    row("doc.addressees", (summary.addressees || []).join(", ") || t("doc.noAddressee")),
    row("doc.concealed", (summary.concealedFields || []).join(", ") || null),
  );
  const parts = [head];
  if (summary.confidential) parts.push(el("p", { class: "hint" }, t("doc.confidential")));
  const view = data && VIEWS[summary.documentType];
  if (view) parts.push(...view(data));
  return parts;
}

/** Every leaf of a JSON value by JSON Pointer (arrays by index). */
export function leaves(value, pointer = "", into = new Map()) {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [key, child] of entries) leaves(child, `${pointer}/${key}`, into);
    if (!entries.length) into.set(pointer, JSON.stringify(value));
  } else {
    into.set(pointer, value === undefined ? undefined : JSON.stringify(value));
  }
  return into;
}

export { at };

// What the docex pages share: building elements (text only, never HTML strings),
// reading the node's answers (JSON or RFC 9457 problem+json). Words and times in the
// page's language: i18n.js.

/** An element with attributes and children (strings become text nodes). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
}

/** A readable sentence from a problem+json answer (title, detail, field errors). */
export function describeProblem(status, body) {
  if (body && typeof body === "object") {
    const parts = [body.detail || body.title || `HTTP ${status}`];
    if (Array.isArray(body.errors)) {
      for (const error of body.errors.slice(0, 5)) {
        const where = error.path || error.loc || "";
        parts.push(`${where ? where + ": " : ""}${error.detail || error.msg || JSON.stringify(error)}`);
      }
    } else if (body.path) {
      parts[0] += ` (at ${body.path})`;
    }
    return parts.join(" · ");
  }
  return `The node answered HTTP ${status}.`;
}

/** Fetch from the node; the parsed JSON body (or null) with the status. */
export async function call(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    return { ok: false, status: 0, body: null, message: "The node could not be reached." };
  }
  let body = null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
  }
  const message = response.ok ? "" : describeProblem(response.status, body);
  return { ok: response.ok, status: response.status, body, message, response };
}

// Building elements from owner-supplied values safely: text only ever goes in as text nodes and attributes,
// never through innerHTML, so a configuration can never inject markup or script.

/** h("button", {class: "b", onclick: fn}, "text", child, [children]) */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const name in attributes || {}) {
    const value = attributes[name];
    if (value == null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Only http(s) links: a `javascript:` URL would be script. */
export const safeUrl = (url) => (/^https?:\/\//i.test(url || "") ? url : null);

/** "Allow {category}" with the category's name. */
export const fill = (text, category) => (text || "").replace("{category}", category);

// Real blocking. Gated markup stays inert until its categories are allowed:
//   <script type="text/plain" data-category="analytics">...</script>   (or with data-src="...")
//   <iframe data-src="..." data-category="social">   <img data-src="..." data-category="marketing">
// When allowed, each runs once, in document order (an external script is waited for before the next one), with
// the page's CSP nonce. A blocked iframe shows a placeholder whose button asks for its category; an iframe whose
// category is refused later is unloaded again. Scripts that already ran cannot be unloaded: the owner may ask
// for a reload on opt-out.

import { fill, h } from "./ui/dom.js";

const SELECTOR = 'script[type="text/plain"][data-category],[data-category][data-src]';
let queue = Promise.resolve();

function activateScript(old, nonce) {
  const script = document.createElement("script");
  for (const { name, value } of old.attributes)
    if (!/^(type|data-src|data-category|data-type)$/.test(name)) script.setAttribute(name, value);
  if (old.dataset.type) script.type = old.dataset.type;
  if (nonce) script.nonce = nonce;
  const src = old.dataset.src;
  if (!src) {
    script.text = old.text;
    old.replaceWith(script); // an inline script runs as it is inserted
    return;
  }
  script.src = src;
  script.async = false;
  return new Promise((done) => {
    script.onload = script.onerror = done;
    old.replaceWith(script);
  });
}

/**
 * Activate what `ctx.allows(element)` allows; show placeholders for blocked iframes, whose button calls `ask`
 * with the category key; unload iframes no longer allowed.
 */
export function scan(ctx, ask) {
  for (const element of document.querySelectorAll(SELECTOR)) {
    const ok = ctx.allows(element);
    if (element.tagName == "SCRIPT") {
      if (ok && !element.cmp) {
        element.cmp = 1;
        queue = queue.then(() => activateScript(element, ctx.nonce));
      }
    } else if (ok) {
      if (!element.cmp) {
        element.cmp = 1;
        element.src = element.dataset.src;
        element.hidden = false;
        if (element.cmpHolder) element.cmpHolder.remove(), (element.cmpHolder = null);
      }
    } else if (element.tagName == "IFRAME") {
      if (element.cmp) element.removeAttribute("src"), (element.cmp = 0);
      if (!element.cmpHolder) {
        element.hidden = true;
        element.cmpHolder = placeholder(element, ctx, ask);
        element.before(element.cmpHolder);
      }
    }
  }
}

function placeholder(element, ctx, ask) {
  const { cfg, choices } = ctx;
  const key = element.dataset.category.split(/\s+/).find((k) => !choices[k]) || "";
  const category = cfg.categories.find((c) => c.key == key);
  const name = category ? category.name : key;
  const box = h("div", { class: "cmp-placeholder", "data-nosnippet": true, lang: cfg.language, dir: cfg.dir });
  const root = box.attachShadow({ mode: "open" });
  ctx.style(root);
  root.append(
    h(
      "div",
      { class: "ph" },
      h("p", null, fill(cfg.texts.placeholder, name)),
      h("button", { class: "btn", type: "button", onclick: () => ask(key) }, fill(cfg.texts.allow, name)),
    ),
  );
  return box;
}

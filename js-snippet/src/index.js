// The snippet: `<script src="https://CMP-HOST/c.js" data-site="KEY" async></script>`. It fetches the site's
// banner for the visitor's region and language, applies a stored choice or a privacy signal, activates what is
// allowed, shows the banner when a choice is needed, and records every decision.

import { publishApi } from "./api.js";
import { cleanUp } from "./cleanup.js";
import { consentDefault, consentUpdate } from "./consentmode.js";
import { scan } from "./gate.js";
import { honouredSignal, signals, switchesOff } from "./signals.js";
import { memory, readChoice, writeChoice } from "./store.js";
import { flush, recorded, send } from "./sync.js";
import { banner } from "./ui/banner.js";
import { h } from "./ui/dom.js";
import { preferences } from "./ui/preferences.js";

const script = document.currentScript || document.querySelector("script[data-site]");
const data = script.dataset;
// Crawlers get no banner and nothing optional (never a consent on their behalf), and no record. A browser
// driven by automation (navigator.webdriver) is not a crawler.
const BOT = /bot\b|crawl|spider|slurp|mediapartners|lighthouse|preview/i;

const ctx = {
  nonce: script.nonce,
  mem: memory(data.site),
  listeners: [],
  changed: [],
  api: (path) => new URL(`api/v1/${path}/${encodeURIComponent(data.site)}`, script.src).href,
  // The hosted preference center (history, receipts) once the service knows this visitor; the link brings the
  // consent ID and its secret once, the page keeps them in a cookie of its own and drops them from its URL.
  hosted: () => {
    const url = new URL(`sites/${encodeURIComponent(data.site)}/preferences`, script.src);
    const q = { consent_id: ctx.mem.i, secret: ctx.mem.s, return: location.href, lang: ctx.cfg.language };
    if (data.region) q.region = data.region;
    url.search = new URLSearchParams(q);
    return url.href;
  },
  receipt() {
    // The first decision's answer brings the consent ID: the cookie gets it.
    if (ctx.choice && !ctx.choice.id) (ctx.choice.id = ctx.mem.i), writeChoice(ctx.choice);
  },
};

const query = new URLSearchParams();
if (data.region) query.set("region", data.region);
if (data.lang) query.set("lang", data.lang);
fetch(ctx.api("banner") + "?" + query, { credentials: "omit" })
  .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
  .then(start)
  .catch((e) => console.warn("Consent: no banner, nothing optional runs:", e));

function start(cfg) {
  ctx.cfg = cfg;
  const cats = cfg.categories;
  const rule = cfg.rule;
  const optIn = rule.model == "opt_in";
  const bot = BOT.test(navigator.userAgent);
  const sent = signals();
  const stored = readChoice();
  const seen = ctx.mem.k || {};
  const choices = {};
  for (const c of cats) choices[c.key] = c.default && !bot;

  // A stored choice stands, except that an opt-in region asks again about what it did not cover: a new
  // category, or a new vendor in a category the visitor allowed.
  if (stored && !bot) {
    for (const c of cats) {
      if (c.key in stored.choices) choices[c.key] = c.necessary || stored.choices[c.key];
      else if (optIn && !c.necessary) ctx.changed.push(c);
      const known = seen[c.key];
      if (optIn && choices[c.key] && !c.necessary && known && c.vendors.some((v) => !known.includes(v.key)))
        ctx.changed.push(c), (choices[c.key] = false);
    }
    ctx.choice = stored;
  }
  ctx.stored = stored;
  ctx.choices = choices;
  // A material change since this visitor chose (on another version than the live one): tell them once, while
  // the owner's notice runs.
  const notice = cfg.notice;
  const before = stored && stored.v != cfg.version.slice(0, 16);
  ctx.notice = notice && before && ctx.mem.n != notice.published_at ? notice : null;
  consentDefault(cfg, choices);
  if (stored) consentUpdate(cfg, choices);

  const decided = () => ctx.stored || ctx.decided;
  const grantsSomething = (c) => cats.some((x) => !x.necessary && c[x.key]);

  // Take a choice into the page: remember it, run what it allows and stop the rest, tell the page and the
  // Google tags. From a decision made here, or from one made on the hosted preference center (resync).
  function apply(next, t) {
    const before = ctx.choices;
    ctx.choices = next;
    ctx.decided = 1;
    ctx.changed = [];
    if (ctx.notice) (ctx.mem.n = ctx.notice.published_at), (ctx.notice = null); // told: not again
    const days = grantsSomething(next) ? rule.consent_lifetime_days : rule.refusal_lifetime_days;
    ctx.choice = { id: ctx.mem.i, v: cfg.version.slice(0, 16), t, x: t + days * 86400, choices: next };
    writeChoice(ctx.choice);
    ctx.mem.k = {};
    for (const c of cats) ctx.mem.k[c.key] = c.vendors.map((v) => v.key);
    ctx.mem.save();
    hide();
    ctx.scan();
    cleanUp(cats, next);
    consentUpdate(cfg, next);
    const state = window.CMP.state();
    document.dispatchEvent(new CustomEvent("cmp:change", { detail: state }));
    ctx.listeners.forEach((l) => l(state));
    if (cfg.snippet.reload_on_opt_out && cats.some((c) => before[c.key] && !next[c.key])) location.reload();
  }

  function decide(wanted, method, layer, control) {
    const next = {}; // exactly the version's categories, necessary ones on
    for (const c of cats) next[c.key] = c.necessary || !!wanted[c.key];
    send(ctx, {
      version: cfg.version,
      language: cfg.language,
      choices: next,
      method,
      layer,
      control,
      page_url: location.origin + location.pathname,
      signals: sent,
      ...(data.region ? { region: data.region } : {}),
    });
    apply(next, Math.floor(Date.now() / 1000));
  }

  // Back from the hosted preference center (its link carries #cmp-sync): the visitor may have changed their
  // choice there, recorded by the service; take the latest recorded decision into this page.
  async function resync() {
    history.replaceState(history.state, "", location.pathname + location.search);
    // A latest decision this browser did not record itself (its last receipt names another record) was made
    // there. Record IDs decide, not times: the device's clock and the service's may differ, or agree to the second.
    const latest = await recorded(ctx);
    if (!latest || latest.record == ctx.mem.d) return;
    const next = {};
    for (const c of cats) next[c.key] = c.necessary || !!latest.choices[c.key];
    apply(next, Math.floor(Date.parse(latest.time) / 1000));
  }

  // What each control records. Taking back something granted in an earlier decision is a withdrawal.
  const withdraws = (next) =>
    decided() &&
    cats.some((c) => ctx.choices[c.key] && !next[c.key]) &&
    !cats.some((c) => !ctx.choices[c.key] && next[c.key]);
  // On a banner that asks again about what changed, its buttons apply to what changed only.
  const all = (on, layer) => {
    const next = { ...ctx.choices };
    for (const c of layer == 1 && ctx.changed.length ? ctx.changed : cats) next[c.key] = on;
    return next;
  };
  ctx.acceptAll = (layer, next = all(true, layer)) =>
    decide(next, cats.every((c) => next[c.key]) ? "accept_all" : "custom", layer, layer ? "accept_all" : "api");
  ctx.rejectAll = (layer, next = all(false, layer)) =>
    decide(
      next,
      withdraws(next) ? "withdrawal" : grantsSomething(next) ? "custom" : "reject_all",
      layer,
      layer ? "reject_all" : "api",
    );
  ctx.save = (next, layer) => decide(next, withdraws(next) ? "withdrawal" : "custom", layer, layer ? "save" : "api");
  const acknowledge = () => {
    if (ctx.notice) (ctx.mem.n = ctx.notice.published_at), (ctx.notice = null), ctx.mem.save();
    hide();
  };
  ctx.close = () =>
    decided() ? acknowledge() : decide({ ...ctx.choices }, rule.implied_consent ? "implied" : "custom", 1, "close");
  ctx.doNotSell = (layer) => {
    const next = { ...ctx.choices };
    for (const c of cats) if (c.sale_or_sharing) next[c.key] = false;
    decide(next, "custom", layer, "do_not_sell");
  };
  const ask = (key) => decide({ ...ctx.choices, [key]: true }, "custom", null, "placeholder");
  ctx.allows = (element) =>
    (cfg.snippet.consent_mode.advanced && element.hasAttribute("data-consent-mode")) ||
    element.dataset.category.split(/\s+/).every((k) => ctx.choices[k]);
  ctx.scan = () => scan(ctx, ask);

  // The interface lives in a shadow root, out of reach of the page's styles.
  let sheet;
  ctx.style = (root) => {
    const theme = cfg.snippet.theme;
    const host = root.host;
    host.lang = cfg.language;
    host.dir = cfg.dir;
    const colours = { bg: theme.background, fg: theme.text, ac: theme.accent, at: theme.accent_text };
    for (const name in colours) host.style.setProperty("--" + name, colours[name]);
    if (root.adoptedStyleSheets) {
      // A constructed stylesheet needs no 'unsafe-inline' or nonce under a strict Content-Security-Policy.
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(__CSS__);
      root.adoptedStyleSheets = [sheet];
    } else root.append(h("style", { nonce: ctx.nonce }, __CSS__));
  };
  let ui, shown, returnTo, reopen;
  // The reopen button stands in for the banner once it is gone (the banner would cover it).
  const hide = () => {
    if (reopen) reopen.hidden = false;
    if (shown) shown.remove(), (shown = null), returnTo && returnTo.focus && returnTo.focus();
    if (ctx.closePreferences) ctx.closePreferences(true);
  };
  const show = () => {
    if (reopen) reopen.hidden = true;
    returnTo = document.activeElement;
    ui.append((shown = banner(ctx)));
    shown.focus({ preventScroll: true });
    // Counted for the consent-rate report, without any identifier (POST /api/v1/impressions/<site>).
    const seenBody = { version: cfg.version, ...(data.region ? { region: data.region } : {}) };
    if (navigator.sendBeacon) navigator.sendBeacon(ctx.api("impressions"), JSON.stringify(seenBody));
  };
  ctx.open = (opener) => {
    if (ctx.closePreferences || !ui) return;
    const back = opener || ui.activeElement || document.activeElement;
    const overlay = h("div", { class: "o" });
    const dialog = preferences(ctx, () => ctx.closePreferences());
    ctx.closePreferences = (decidedHere) => {
      overlay.remove();
      dialog.remove();
      ctx.closePreferences = null;
      // Back to what opened them; after a decision that closed the banner too, to where the visitor was before.
      const gone = decidedHere && !shown && ui.contains(back); // the banner's own button, removed with it
      const target = back && back.isConnected && !gone ? back : returnTo;
      if (target && target.focus) target.focus({ preventScroll: true });
    };
    ui.append(overlay, dialog);
    dialog.focus();
  };

  function render() {
    const signal = !bot && honouredSignal(rule, sent);
    let honouredNow = false;
    if (signal) {
      ctx.honoured = signal[0];
      // Honoured without asking: the categories the signal switches off, if any is on, are switched off, the
      // opt-out is recorded as made by the signal, and the banner says so.
      const next = { ...ctx.choices };
      for (const c of cats) if (switchesOff(signal[1], c)) next[c.key] = false;
      if ((honouredNow = cats.some((c) => ctx.choices[c.key] != next[c.key]))) decide(next, signal[0], null, null);
    }
    ctx.scan();
    if (bot) return;
    const host = h("div", { id: "cmp-ui", "data-nosnippet": true });
    ui = host.attachShadow({ mode: "open" });
    ctx.style(ui);
    document.body.append(host);
    const button = { class: "r", type: "button", "aria-label": cfg.texts.reopen, onclick: () => ctx.open() };
    if (cfg.snippet.reopen_button) ui.append((reopen = h("button", button, "\u2699")));
    if (!stored || ctx.changed.length || honouredNow || ctx.notice) show();
    document.addEventListener("click", (event) => {
      const opener = event.target.closest && event.target.closest("[data-cmp-open]");
      if (opener) event.preventDefault(), ctx.open(opener);
    });
  }

  publishApi(ctx);
  if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
  flush(ctx);
  addEventListener("online", () => flush(ctx));
  if (location.hash == "#cmp-sync" && ctx.mem.i && !bot) resync();
}

// The public API, `window.CMP`: read the state, subscribe to changes, open the preferences, accept or reject
// from the owner's own interface, re-scan the page after a single-page app rendered new gated elements.
// Calls made before the snippet loaded are queued the usual way: `(window.CMP = window.CMP || []).push(fn)`.

export function publishApi(ctx) {
  const api = {
    state: () => ({
      decided: !!(ctx.stored || ctx.decided),
      consentId: ctx.mem.i || null,
      version: ctx.cfg.version,
      region: ctx.cfg.region,
      model: ctx.cfg.rule.model,
      categories: { ...ctx.choices },
      gpc: ctx.honoured == "gpc",
      receipt: ctx.mem.r || null,
    }),
    allowed: (category) => !!ctx.choices[category],
    on(listener) {
      ctx.listeners.push(listener);
      return () => (ctx.listeners = ctx.listeners.filter((l) => l != listener));
    },
    open: () => ctx.open(),
    acceptAll: () => ctx.acceptAll(null),
    rejectAll: () => ctx.rejectAll(null),
    set: (changes) => ctx.save({ ...ctx.choices, ...changes }, null),
    scan: () => ctx.scan(),
    push: (fn) => fn(api),
  };
  const queued = Array.isArray(window.CMP) ? window.CMP : [];
  window.CMP = api;
  queued.forEach(api.push);
  document.dispatchEvent(new CustomEvent("cmp:ready", { detail: api.state() }));
  return api;
}

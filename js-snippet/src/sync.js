// Sending decisions to the service. Every decision goes through a queue kept in localStorage: when the post
// fails (offline, a network error, 408, 429, 5xx) it stays there and is retried with backoff, when the browser
// comes back online and on the next page load, so nothing is lost while the page honours the choice at once.
// Each decision carries a random key, the same on every retry, so that a retry of a decision the service did
// store (its answer lost on the way) is answered again rather than recorded twice. A conflict (409: two writes
// raced; the service says to retry) is retried a few times. Any other refusal (4xx) would fail forever: it is
// dropped with a console warning.

let busy = 0;
let timer;
let delay = 1000;

/** 128 random bits, base64url. */
const randomKey = () =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

export function send(ctx, body) {
  body.decision_key = randomKey();
  (ctx.mem.q = ctx.mem.q || []).push(body);
  ctx.mem.save();
  flush(ctx);
}

export async function flush(ctx) {
  const mem = ctx.mem;
  if (busy || !(mem.q || []).length) return;
  busy = 1;
  clearTimeout(timer);
  while (mem.q.length) {
    // The consent ID and its secret come from the first decision's answer, which may have been queued too.
    const { tries, ...body } = mem.i ? { ...mem.q[0], consent_id: mem.i, secret: mem.s } : mem.q[0];
    let response;
    try {
      response = await fetch(ctx.api("decisions"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
        keepalive: true, // survives the visitor leaving the page
      });
    } catch (e) {}
    const status = response ? response.status : 0;
    const conflict = status == 409 && (mem.q[0].tries = (mem.q[0].tries || 0) + 1) < 5;
    if (!status || status >= 500 || status == 408 || status == 429 || conflict) {
      mem.save();
      timer = setTimeout(() => flush(ctx), delay);
      delay = Math.min(delay * 2, 300000);
      break;
    }
    delay = 1000;
    mem.q.shift();
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      if (answer.secret) (mem.i = answer.consent_id), (mem.s = answer.secret);
      if (answer.receipt) (mem.r = answer.receipt), (mem.d = answer.record_id);
      ctx.receipt(answer);
    } else console.warn("Consent: the service refused a decision, which is dropped:", status, answer);
    mem.save();
  }
  busy = 0;
}

/** The visitor's latest recorded decision ({time, choices, ...}), read with their secret; null if none or unreachable. */
export async function recorded(ctx) {
  const url = `${ctx.api("decisions")}/${encodeURIComponent(ctx.mem.i)}`;
  try {
    const response = await fetch(url, { headers: { "X-Consent-Secret": ctx.mem.s }, credentials: "omit" });
    const history = response.ok ? await response.json() : null;
    return history && history.current ? history.current.document : null;
  } catch (e) {
    return null;
  }
}

// Where the choice lives in the browser. The consent cookie (`cmp_consent`, first party, ~100 bytes) holds what
// the owner's pages and servers may read: consent ID, version, per-category state, time and expiry. The secret
// that proves the consent ID to the service, the last receipt, the vendors the visitor was told about and the
// queue of decisions still to send stay in localStorage: they never travel to the owner's servers.

export const COOKIE = "cmp_consent";

/** The stored choice, or null: {id, v, t, x, choices: {category: bool}} (t and x in seconds). */
export function readChoice() {
  const match = document.cookie.match(/(?:^|;\s*)cmp_consent=([^;]*)/);
  if (!match) return null;
  const p = new URLSearchParams(match[1]);
  const choices = {};
  for (const [key, on] of [["a", true], ["r", false]]) {
    for (const category of (p.get(key) || "").split(".")) if (category) choices[category] = on;
  }
  const x = +p.get("x");
  return x * 1000 > Date.now() ? { id: p.get("i") || "", v: p.get("v") || "", t: +p.get("t"), x, choices } : null;
}

/** Write the choice until its expiry `x`. Dots separate category keys, which cannot contain them. */
export function writeChoice(choice) {
  const keys = Object.keys(choice.choices);
  const p = new URLSearchParams({
    i: choice.id || "",
    v: choice.v,
    t: choice.t,
    x: choice.x,
    a: keys.filter((k) => choice.choices[k]).join("."),
    r: keys.filter((k) => !choice.choices[k]).join("."),
  });
  const age = choice.x - Math.floor(Date.now() / 1000);
  document.cookie =
    `${COOKIE}=${p}; Path=/; Max-Age=${age}; SameSite=Lax` + (location.protocol == "https:" ? "; Secure" : "");
}

/** The site's private memory in localStorage: {i: consent ID, s: secret, r: receipt, k: seen vendors, q: queue}. */
export function memory(site) {
  const key = "cmp_" + site;
  let data = {};
  try {
    data = JSON.parse(localStorage.getItem(key)) || {};
  } catch (e) {}
  data.save = () => {
    try {
      localStorage.setItem(key, JSON.stringify(data));
    } catch (e) {} // storage full or disabled: the choice still works for this page
  };
  return data;
}

// Google Consent Mode v2: `default` before any Google tag runs, `update` on every choice and on each page load
// with a stored choice. Google's tags read the `arguments` objects pushed by the canonical gtag() stub.

const TYPES = [
  "ad_storage",
  "ad_user_data",
  "ad_personalization",
  "analytics_storage",
  "functionality_storage",
  "personalization_storage",
  "security_storage",
];

function gtag() {
  (window.dataLayer = window.dataLayer || []).push(arguments);
}

/** Every consent type, granted when some allowed category maps to it. */
function values(categories, choices) {
  const out = {};
  for (const type of TYPES) out[type] = "denied";
  for (const c of categories) if (choices[c.key]) for (const type of c.consent_types) out[type] = "granted";
  return out;
}

/** The first command: `default` from the region's defaults, unless the page's inline part already set one. */
export function consentDefault(config, choices) {
  const mode = config.snippet.consent_mode;
  if (!mode.enabled) return;
  const set = (window.dataLayer || []).some((a) => a[0] == "consent" && a[1] == "default");
  if (set) return consentUpdate(config, choices);
  gtag("consent", "default", { ...values(config.categories, choices), wait_for_update: 500 });
  if (mode.ads_data_redaction) gtag("set", "ads_data_redaction", true);
  if (mode.url_passthrough) gtag("set", "url_passthrough", true);
}

export function consentUpdate(config, choices) {
  if (!config.snippet.consent_mode.enabled) return;
  gtag("consent", "update", values(config.categories, choices));
  // Google Tag Manager triggers fire on events, not on consent commands.
  window.dataLayer.push({ event: "cmp_consent_update" });
}

// Browser privacy signals: Global Privacy Control and Do Not Track, and what the served rule makes of them.

export function signals() {
  const n = navigator;
  return { gpc: n.globalPrivacyControl === true, dnt: n.doNotTrack == "1" || window.doNotTrack == "1" };
}

/** The signal the rule honours, if the browser sends it: ["gpc" | "dnt", "opt_out" | "reject_all"], else null. */
export function honouredSignal(rule, sent) {
  if (sent.gpc && rule.gpc != "ignore") return ["gpc", rule.gpc];
  if (sent.dnt && rule.dnt != "ignore") return ["dnt", rule.dnt];
  return null;
}

/** Whether a treatment switches a category off: every optional one, or those that sell or share data. */
export const switchesOff = (treatment, category) =>
  !category.necessary && (treatment == "reject_all" || category.sale_or_sharing);

// The second layer: a switch per category (necessary ones shown on and disabled, nothing optional pre-ticked in
// opt-in regions) and, under each, its vendors with their cookies: name, duration, who sets it, purpose. A modal
// dialog: focus moves in and stays in, Escape closes it.

import { h, safeUrl } from "./dom.js";
import { keyboard } from "./focus.js";

export function preferences(ctx, close) {
  const { cfg, choices } = ctx;
  const t = cfg.texts;
  const switches = {};
  const read = () => {
    const next = {};
    for (const key in switches) next[key] = switches[key].checked;
    return next;
  };
  const sold = cfg.categories.filter((c) => c.sale_or_sharing);
  const button = (label, action, name) =>
    h("button", { class: "btn", type: "button", "data-cmp": name, onclick: action }, label);
  const dialog = h(
    "div",
    { class: "p", role: "dialog", "aria-modal": "true", "aria-labelledby": "cmp-pt", tabindex: -1 },
    h("h2", { id: "cmp-pt" }, t.preferences_title),
    h("button", { class: "x", type: "button", "aria-label": t.close_dialog, onclick: close }, "\u00d7"),
    t.preferences_body && h("p", null, t.preferences_body),
    ctx.mem.i && h("p", null, h("a", { href: ctx.hosted() }, t.history)),
    ctx.honoured == "gpc" && h("p", { class: "ok" }, t.gpc_honored),
    cfg.rule.first_layer.links.includes("do_not_sell") &&
      sold.length > 0 &&
      (sold.every((c) => !choices[c.key])
        ? h("p", { class: "ok" }, t.opted_out)
        : h("p", null, h("button", { class: "l", type: "button", onclick: () => ctx.doNotSell(2) }, t.do_not_sell))),
    cfg.categories.map((c) => {
      const id = "cmp-s-" + c.key;
      switches[c.key] = h("input", {
        type: "checkbox",
        role: "switch",
        id,
        checked: c.necessary || choices[c.key],
        disabled: c.necessary,
        "aria-describedby": c.description ? id + "-d" : null,
      });
      return h(
        "section",
        { class: "c" },
        h(
          "div",
          { class: "row" },
          h("h3", null, h("label", { for: id }, c.name)),
          h("span", { class: "row" }, c.necessary && t.always_on, switches[c.key]),
        ),
        c.description && h("p", { id: id + "-d" }, c.description),
        c.vendors.length > 0 &&
          h(
            "details",
            null,
            h("summary", null, c.vendors.map((v) => v.name).join(", ")),
            c.vendors.map((v) => [
              h("h4", null, v.name),
              v.description && h("p", null, v.description),
              safeUrl(v.privacy_policy_url) && h("a", { href: v.privacy_policy_url }, t.privacy_policy),
              v.cookies.length > 0 &&
                h(
                  "table",
                  null,
                  h(
                    "tr",
                    null,
                    [t.cookie_name, t.cookie_duration, t.cookie_party, t.cookie_purpose].map((x) =>
                      h("th", { scope: "col" }, x),
                    ),
                  ),
                  v.cookies.map((k) =>
                    h(
                      "tr",
                      null,
                      [k.name, k.duration, k.party == "first" ? t.party_first : t.party_third, k.purpose].map((x) =>
                        h("td", null, x),
                      ),
                    ),
                  ),
                ),
            ]),
          ),
      );
    }),
    h(
      "div",
      { class: "btns" },
      button(t.reject_all, () => ctx.rejectAll(2), "reject_all"),
      button(t.accept_all, () => ctx.acceptAll(2), "accept_all"),
      button(t.save, () => ctx.save(read(), 2), "save"),
    ),
  );
  keyboard(dialog, true, close);
  return dialog;
}

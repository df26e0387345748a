// The first layer: what the served rule requires in the visitor's region. In opt-in regions "Accept all" and
// "Reject all" are the same kind of button, side by side; in opt-out regions a "Do Not Sell or Share" control
// where the site sells or shares. A non-modal dialog: the page stays usable, focus moves into it when shown.

import { h, safeUrl } from "./dom.js";
import { keyboard } from "./focus.js";

export function banner(ctx) {
  const { cfg } = ctx;
  const t = cfg.texts;
  const layer = cfg.rule.first_layer;
  // A signal already decided, or only a notice to give (nothing new to choose): acknowledge, or change choices.
  const buttons = ctx.decided || (ctx.notice && !ctx.changed.length) ? ["close", "preferences"] : layer.buttons;
  const actions = {
    accept_all: () => ctx.acceptAll(1),
    reject_all: () => ctx.rejectAll(1),
    preferences: () => ctx.open(),
    close: () => ctx.close(),
  };
  const dialog = h(
    "div",
    {
      class: "b " + cfg.snippet.theme.position,
      role: "dialog",
      "aria-labelledby": "cmp-t",
      "aria-describedby": "cmp-d",
      tabindex: -1,
    },
    h("h2", { id: "cmp-t" }, t.title),
    ctx.honoured == "gpc" && h("p", { class: "ok", role: "status" }, t.gpc_honored),
    ctx.notice && h("p", { class: "ok", role: "status" }, ctx.notice.message),
    ctx.changed.length > 0 && h("p", { class: "ok" }, t.changed + " " + ctx.changed.map((c) => c.name).join(", ")),
    h("p", { id: "cmp-d" }, t.body),
    h(
      "p",
      null,
      layer.links.map((link) =>
        link == "do_not_sell"
          ? h("button", { class: "l", type: "button", onclick: () => ctx.doNotSell(1) }, t.do_not_sell)
          : safeUrl(t[link + "_url"]) && h("a", { href: t[link + "_url"] }, t[link]),
      ),
    ),
    h(
      "div",
      { class: "btns" },
      buttons.map((b) => h("button", { class: "btn", type: "button", "data-cmp": b, onclick: actions[b] }, t[b])),
    ),
  );
  keyboard(dialog, false, () => buttons.includes("close") && ctx.close());
  return dialog;
}

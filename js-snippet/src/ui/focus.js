// Keyboard handling of a dialog inside a shadow root: Tab and Shift+Tab stay inside while it is modal, Escape
// calls `onEscape`.

const FOCUSABLE = "a[href],button:not([disabled]),input:not([disabled]),summary,[tabindex]";

export function keyboard(dialog, modal, onEscape) {
  dialog.addEventListener("keydown", (event) => {
    if (event.key == "Escape") {
      event.stopPropagation();
      onEscape();
    } else if (event.key == "Tab" && modal) {
      const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((e) => e.offsetParent || e == dialog);
      const first = items[0];
      const last = items[items.length - 1];
      const active = dialog.getRootNode().activeElement;
      if (event.shiftKey ? active == first || active == dialog : active == last) {
        event.preventDefault();
        (event.shiftKey ? last : first).focus();
      }
    }
  });
}

// A fake tag: says on the page that it ran and sets the cookies its vendors declare.
window.demoTag(document.currentScript.dataset.tag, document.currentScript.dataset.cookies || "");

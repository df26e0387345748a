// The demo page's own helpers (not part of the snippet): fake tags report through demoTag(), and the page shows
// the cookies it can see, Google's dataLayer and the snippet's events as they change.
window.__ran = [];
window.dataLayer = window.dataLayer || [];

window.demoTag = function (name, cookies) {
  window.__ran.push(name);
  for (const cookie of cookies.split(" ").filter(Boolean)) {
    document.cookie = `${cookie}=demo.${Date.now()}; Path=/; Max-Age=31536000; SameSite=Lax`;
  }
  const output = document.getElementById("tag-" + name);
  if (output) output.textContent = `ran at ${new Date().toLocaleTimeString()} (${window.__ran.filter((n) => n == name).length}×)`;
};

function show() {
  const cookies = document.getElementById("cookies");
  if (cookies) cookies.textContent = document.cookie.split("; ").filter(Boolean).join("\n") || "(none)";
  const layer = document.getElementById("datalayer");
  const entries = window.dataLayer.map((e) => JSON.stringify(typeof e.length == "number" ? Array.from(e) : e));
  if (layer) layer.textContent = entries.join("\n") || "(empty)";
}
setInterval(show, 250);
document.addEventListener("DOMContentLoaded", show);

document.addEventListener("cmp:change", (event) => {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} cmp:change ${JSON.stringify(event.detail.categories)}`;
  document.getElementById("events").append(item);
});

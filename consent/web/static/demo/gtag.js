// A stand-in for Google's tag (gtag.js): records the dataLayer as it found it (the Consent Mode commands sent
// before it ran), then configures itself as the real one would.
window.__googleSawAtLoad = window.dataLayer.map((e) => (typeof e.length == "number" ? Array.from(e) : e));
(function () {
  function gtag() {
    window.dataLayer.push(arguments);
  }
  gtag("js", new Date());
  gtag("config", "G-DEMO");
})();
window.demoTag("google-tag", "");

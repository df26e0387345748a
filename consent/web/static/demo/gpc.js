// The demo's stand-in for a browser that sends Global Privacy Control.
Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true, configurable: true });

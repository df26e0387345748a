"""HTTP edges: the owner API and the public endpoints the snippet calls."""

"""The consent-rate report page in Chromium: its charts render under the page's strict Content Security Policy, and
axe-core finds no accessibility violation."""

from __future__ import annotations

from ..conftest import issue_key
from ..test_decisions import decide

EVERYTHING = {"necessary": True, "analytics": True, "marketing": True}


def test_the_consent_rate_report_renders_its_charts_and_is_axe_clean(app, client, quadient, browser, live):
    from axe_playwright_python.sync_playwright import Axe

    version = client.get("/api/v1/banner/quadient?region=FR").json["version"]
    for region in ("FR", "FR", "DE", "US-CA", "FR"):
        client.post("/api/v1/impressions/quadient", json={"version": version, "region": region})
    decide(client)
    decide(client, method="accept_all", choices=EVERYTHING, control="accept_all", region="US-CA")
    decide(client, method="custom", choices={**EVERYTHING, "marketing": False}, control="save", layer=2, region="DE")

    context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {issue_key(app, 'owner', 'quadient')}"})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(f"{live.url}/api/v1/sites/quadient/consent-rates?format=html")
    assert response.status == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]

    charts = page.locator("svg.chart")
    assert charts.count() == 4
    for i in range(4):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40, box
    assert page.locator("svg.chart rect").count() >= 10  # the bars themselves
    assert page.locator("dl.figures").evaluate("e => getComputedStyle(e).display") == "grid"  # its stylesheet loaded
    assert page.get_by_role("img", name="Banners and answers per day").is_visible()
    assert page.get_by_role("table", name="Outcomes by region").is_visible()

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    assert results.violations_count == 0, results.generate_report()
    assert not [text for text in console if "Content Security Policy" in text or "Refused" in text], console
    context.close()

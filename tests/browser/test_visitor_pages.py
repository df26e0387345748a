"""The visitor pages in Chromium: the hosted preference center used without JavaScript, its effect on the page
that embeds the snippet, notices of a material change, and axe-core on every page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from ..conftest import EXAMPLE_KEYS, ROOT
from .conftest import VISITOR_AGENT, cookies, visit, wait_recorded, with_personalisation


def banner(page):
    return page.get_by_role("dialog", name="Your privacy choices")


def axe_violations(page) -> list[str]:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python missing")
    results = axe.Axe().run(page)
    return [f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']]})" for v in results.response["violations"]]


def hosted_link(page) -> str:
    """The link the snippet's preference center gives to the hosted one (it carries the visitor's credentials)."""
    page.get_by_role("button", name="Privacy preferences").click()
    link = page.get_by_role("link", name="Your recorded choices, their history and receipts")
    href = link.get_attribute("href")
    page.keyboard.press("Escape")
    return href


def test_a_change_made_on_the_hosted_page_without_javascript_reaches_the_sites_page_and_the_log(live, page, browser):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    memory = wait_recorded(page, "quadient")
    href = hosted_link(page)

    no_script = browser.new_context(java_script_enabled=False, user_agent=VISITOR_AGENT, locale="en-US")
    hosted = no_script.new_page()
    hosted.goto(href)
    assert "secret" not in hosted.url
    hosted.get_by_label("Marketing").uncheck()
    hosted.get_by_role("button", name="Save my choices").click()
    assert "Your choice was saved and recorded." in hosted.inner_text("body")
    rows = hosted.get_by_role("table", name="Your decisions").locator("tbody tr")
    assert rows.count() == 2  # the history lists both decisions, newest first
    assert "Withdrew consent" in rows.nth(0).inner_text() and "Accepted all" in rows.nth(1).inner_text()
    rows.nth(0).get_by_role("link", name=re.compile("^Printable")).click()
    receipt = hosted.locator("pre.jws").inner_text()
    assert receipt.count(".") == 2  # a compact JWS
    hosted.go_back()
    back = hosted.get_by_role("link", name="Back to Quadient").get_attribute("href")
    no_script.close()

    page.goto("about:blank")  # the visitor was on the hosted page: the site's page loads anew
    page.goto(back)  # back on the site's page, with the snippet: it takes the new choice in
    page.wait_for_function("() => window.CMP && window.CMP.state().categories.marketing === false")
    assert page.evaluate("window.CMP.state().categories") == {"necessary": True, "analytics": True, "marketing": False}
    assert "a=necessary.analytics" in cookies(page.context)["cmp_consent"]
    assert "#cmp-sync" not in page.url
    history = live.history("quadient", memory["i"], memory["s"])["history"]
    assert [d["document"]["method"] for d in history] == ["withdrawal", "accept_all"]
    assert history[0]["receipt"] == receipt


def test_a_change_on_the_hosted_page_is_taken_in_whatever_the_devices_clock_says(live, page, browser):
    page.clock.set_system_time(datetime.now(UTC) + timedelta(hours=1))  # a device whose clock runs an hour fast
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    wait_recorded(page, "quadient")
    no_script = browser.new_context(java_script_enabled=False, user_agent=VISITOR_AGENT, locale="en-US")
    hosted = no_script.new_page()
    hosted.goto(hosted_link(page))
    back = hosted.get_by_role("link", name="Back to Quadient").get_attribute("href")
    hosted.goto(hosted.url)  # nothing changed yet: coming back changes nothing
    page.goto("about:blank")
    with page.expect_response(re.compile(r"/api/v1/decisions/quadient/")):  # the snippet reads what was recorded
        page.goto(back)
    page.wait_for_timeout(200)
    assert page.evaluate("window.CMP.state().categories.marketing") is True

    hosted.get_by_label("Marketing").uncheck()
    hosted.get_by_role("button", name="Save my choices").click()
    no_script.close()
    page.goto("about:blank")
    page.goto(back)  # the service's time of the change is an hour before the device's time of its own choice
    page.wait_for_function("() => window.CMP && window.CMP.state().categories.marketing === false")


def test_another_visitors_consent_id_without_its_secret_gets_nothing(live, page, browser):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Reject all").click()
    memory = wait_recorded(page, "quadient")
    stranger = browser.new_context(user_agent=VISITOR_AGENT).new_page()
    answer = stranger.goto(f"{live.url}/sites/quadient/preferences?consent_id={memory['i']}&secret={'x' * 43}")
    assert answer.status == 403 and memory["i"] not in stranger.content()


def publish_with_notice(app, tmp_path, edit, notice: str) -> None:
    exported = app.test_cli_runner().invoke(args=["cmp", "export", "quadient"])
    path = tmp_path / "quadient-changed.yaml"
    path.write_text(edit(exported.output), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["cmp", "load", str(path), "--notice", f"en={notice}"])
    assert result.exit_code == 0, result.output
    app.extensions["cmp.live"].forget("quadient")


def test_a_material_change_shows_its_notice_and_asks_again_about_the_new_category_only(app, live, page, tmp_path):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    wait_recorded(page, "quadient")
    publish_with_notice(app, tmp_path, with_personalisation, "We now personalise what you see, if you agree.")
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")

    visit(page, live.demo("quadient", region="FR"))
    dialog = banner(page)
    text = dialog.inner_text()
    assert "We now personalise what you see, if you agree." in text
    assert "New since your last choice: Personalisation" in text
    dialog.get_by_role("button", name="Accept all cookies").click()  # applies to what is new
    assert page.evaluate("window.CMP.state().categories")["personalisation"] is True
    visit(page, live.demo("quadient", region="FR"))
    page.wait_for_timeout(300)
    assert banner(page).count() == 0  # told once


def test_a_notice_alone_is_acknowledged_once(app, live, page, tmp_path):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Reject all").click()
    wait_recorded(page, "quadient")
    publish_with_notice(
        app, tmp_path, lambda text: text.replace("Distinguishes visitors.", "Tells visitors apart."), "We reworded."
    )
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")

    visit(page, live.demo("quadient", region="FR"))
    dialog = banner(page)
    assert "We reworded." in dialog.inner_text()
    assert dialog.get_by_role("button", name="Accept all cookies").count() == 0  # nothing new to choose
    dialog.get_by_role("button", name="OK", exact=True).click()
    visit(page, live.demo("quadient", region="FR"))
    page.wait_for_timeout(300)
    assert banner(page).count() == 0
    assert page.evaluate("window.CMP.state().categories")["analytics"] is False  # the choice stands


@pytest.mark.parametrize("site", EXAMPLE_KEYS)
def test_axe_finds_no_violation_on_the_declaration_and_its_archive(live, page, site):
    live.load(site)
    config = yaml.safe_load((ROOT / "examples" / f"{site}.yaml").read_text())
    declared = {cookie["name"] for vendor in config["vendors"] for cookie in vendor.get("cookies", [])}
    assert declared
    for text in config["texts"]:
        page.goto(f"{live.url}/sites/{site}/declaration?lang={text['language']}")
        assert page.locator("html").get_attribute("lang") == text["language"]
        listed = set(page.locator("table code").all_inner_texts()) | set(page.locator("table th").all_inner_texts())
        assert declared <= {name.strip() for name in listed}, f"{site} ({text['language']}) misses a cookie"
        assert axe_violations(page) == []
    page.goto(f"{live.url}/sites/{site}/versions")
    assert axe_violations(page) == []


def test_axe_finds_no_violation_on_the_preference_center_and_a_receipt(live, page):
    visit(page, live.demo("anytime-postage", region="US-CA"))
    banner(page).get_by_role("button", name="OK", exact=True).click()
    wait_recorded(page, "anytime-postage")
    page.goto(hosted_link(page))
    assert page.get_by_role("heading", name="Do Not Sell or Share My Personal Information").is_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name=re.compile("^Printable")).first.click()
    assert axe_violations(page) == []

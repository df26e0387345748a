"""The banner and the preference center with a keyboard and a screen reader's eyes: axe-core finds nothing,
focus goes where it should, right-to-left languages are laid out as such, bots see no banner."""

from __future__ import annotations

import pytest
import yaml

from .conftest import VISITOR_AGENT, visit


def axe_violations(page) -> list[str]:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python missing")
    results = axe.Axe().run(page, context={"include": [["#cmp-ui"]]})
    return [f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']]})" for v in results.response["violations"]]


@pytest.mark.parametrize(
    "site, region", [("quadient", "FR"), ("anytime-postage", "US-CA"), ("sodepac", "FR"), ("optipost", "BE")]
)
def test_axe_finds_no_violation_on_the_banner_and_the_preference_center(live, page, site, region):
    visit(page, live.demo(site, region=region))
    page.locator("#cmp-ui .b").wait_for()
    assert axe_violations(page) == []

    page.locator("#cmp-ui [data-cmp=preferences]").click()
    preferences = page.locator("#cmp-ui .p")
    for details in preferences.locator("details").all():
        details.locator("summary").click()  # vendors and their cookie tables too
    assert axe_violations(page) == []


def focused(page) -> str:
    return page.evaluate(
        "() => { const a = document.getElementById('cmp-ui').shadowRoot.activeElement;"
        " return a ? (a.getAttribute('data-cmp') || a.getAttribute('role') || a.tagName) : null }"
    )


def test_the_keyboard_reaches_everything_focus_is_trapped_in_the_preferences_and_escape_closes_them(live, page):
    visit(page, live.demo("quadient", region="FR"))
    page.locator("#cmp-ui .b").wait_for()
    assert focused(page) == "dialog", "focus moves into the banner"
    page.keyboard.press("Escape")  # an opt-in banner cannot be dismissed without a choice
    assert page.locator("#cmp-ui .b").is_visible()

    page.locator("#cmp-ui [data-cmp=preferences]").focus()
    page.keyboard.press("Enter")
    assert focused(page) == "dialog"
    seen = set()
    for _ in range(30):  # Tab round the whole dialog: it never leaves
        page.keyboard.press("Tab")
        seen.add(focused(page))
        assert focused(page) is not None
    assert {"switch", "reject_all", "accept_all", "save"} <= seen
    page.keyboard.press("Escape")
    assert page.locator("#cmp-ui .p").count() == 0
    assert focused(page) == "preferences", "focus returns to what opened the preferences"

    page.locator("#cmp-ui [data-cmp=reject_all]").focus()
    page.keyboard.press("Enter")
    assert page.locator("#cmp-ui .b").count() == 0
    outline = page.locator("#cmp-ui .r").evaluate("b => { b.focus(); return getComputedStyle(b).outlineStyle }")
    assert outline == "solid", "visible focus"


def test_a_right_to_left_language_is_laid_out_right_to_left(app, live, page, tmp_path):
    from ..conftest import republish

    def add_arabic(text: str) -> str:
        config = yaml.safe_load(text)
        config["texts"].append(
            {
                "language": "ar",
                "title": "ملفات تعريف الارتباط",
                "body": "نستخدم ملفات تعريف الارتباط لتشغيل هذا الموقع، وبموافقتك لقياس استخدامه.",
            }
        )
        return yaml.safe_dump(config, allow_unicode=True)

    live.load("quadient")
    republish(app, tmp_path, "quadient", add_arabic)
    visit(page, live.demo("quadient", region="FR", lang="ar"))
    host = page.locator("#cmp-ui")
    assert host.get_attribute("lang") == "ar" and host.get_attribute("dir") == "rtl"
    assert page.get_by_role("button", name="قبول الكل").is_visible()
    assert axe_violations(page) == []


def test_a_banner_a_bot_would_see_is_not_shown_and_nothing_optional_runs(live, browser):
    context = browser.new_context(user_agent=VISITOR_AGENT.replace("Chrome/", "Googlebot/2.1 Chrome/"))
    page = context.new_page()
    try:
        visit(page, live.demo("quadient", region="US-CA"))  # opt-out: analytics would run for a visitor
        page.wait_for_timeout(300)
        assert page.locator("#cmp-ui").count() == 0
        assert page.evaluate("window.__ran") == []
    finally:
        context.close()


def test_a_webdriver_controlled_browser_is_not_a_bot(live, page):
    visit(page, live.demo("quadient", region="FR"))
    assert page.evaluate("navigator.webdriver") is True
    page.locator("#cmp-ui .b").wait_for()


def test_the_banner_is_an_overlay_that_shifts_nothing(live, page):
    page.add_init_script(
        "window.__shift = 0; new PerformanceObserver(l => l.getEntries().forEach(e => window.__shift += e.value))"
        ".observe({type: 'layout-shift', buffered: true});"
    )
    visit(page, live.demo("quadient", region="FR"))
    page.locator("#cmp-ui .b").wait_for()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__shift") == 0
    assert page.locator("#cmp-ui").get_attribute("data-nosnippet") == ""


def test_the_owner_themes_the_banner_without_code_and_it_stays_accessible(app, live, page, tmp_path):
    from ..conftest import republish

    theme = (
        '\nsnippet:\n  theme: {position: top, background: "#101418", text: "#f5f5f5", '
        'accent: "#ffd33d", accent_text: "#101418"}\n'
    )
    live.load("quadient")
    republish(app, tmp_path, "quadient", lambda text: text + theme)
    visit(page, live.demo("quadient", region="FR"))
    dialog = page.locator("#cmp-ui .b")
    dialog.wait_for()
    assert dialog.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(16, 20, 24)"
    assert dialog.evaluate("b => b.getBoundingClientRect().top") == 0
    button = page.locator("#cmp-ui [data-cmp=accept_all]")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 211, 61)"
    assert axe_violations(page) == []

"""The snippet on the example sites' demo pages, in a real browser: what runs when, what is deleted, what is
recorded, what the visitor sees and can do with a keyboard."""

from __future__ import annotations

from .conftest import SEND_GPC, cookies, stored, visit, wait_recorded, with_personalisation

ALL_QUADIENT_TAGS = ["analytics", "analytics-inline", "marketing", "google-tag"]


def banner(page):
    return page.get_by_role("dialog", name="Your privacy choices")


def ran(page) -> list[str]:
    return page.evaluate("window.__ran")


def recorded(live, page, site: str) -> list[dict]:
    """The visitor's decisions as the service recorded them, newest first."""
    memory = wait_recorded(page, site)
    return [entry["document"] for entry in live.history(site, memory["i"], memory["s"])["history"]]


# --- opt-in: nothing before a choice ---------------------------------------------------------------------------


def test_in_the_eea_nothing_gated_runs_before_a_choice(live, page, context):
    visit(page, live.demo("quadient", region="FR"))
    dialog = banner(page)
    dialog.wait_for()
    page.wait_for_timeout(300)  # time for anything that would wrongly run
    assert ran(page) == []
    assert page.locator("#pixel").get_attribute("src") is None
    assert not any(name.startswith("_ga") for name in cookies(context))
    assert page.evaluate("window.CMP.state().categories") == {"necessary": True, "analytics": False, "marketing": False}

    accept = dialog.get_by_role("button", name="Accept all cookies")
    reject = dialog.get_by_role("button", name="Reject all")
    style = "b => { const s = getComputedStyle(b); return [s.background, s.color, s.font, b.offsetHeight] }"
    assert accept.evaluate(style) == reject.evaluate(style), "refusing must look exactly like accepting"


def test_accept_all_runs_the_gated_scripts_once_each_in_order(live, page):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    page.wait_for_function("() => window.__ran.length === 4")
    assert ran(page) == ALL_QUADIENT_TAGS
    assert page.locator("#pixel").get_attribute("src").startswith("/demo/pixel.gif")
    page.evaluate("window.CMP.scan()")  # a single-page app re-scanning finds nothing left to run
    page.wait_for_timeout(200)
    assert ran(page) == ALL_QUADIENT_TAGS
    assert banner(page).count() == 0

    assert recorded(live, page, "quadient")[0]["method"] == "accept_all"
    visit(page, live.demo("quadient", region="FR"))  # the next page: the stored choice, no banner
    page.wait_for_function("() => window.__ran.length === 4")
    assert ran(page) == ALL_QUADIENT_TAGS and banner(page).count() == 0


def test_reject_all_keeps_the_tags_off_and_deletes_a_ga_cookie_set_before(live, page, context):
    host = "127.0.0.1"
    context.add_cookies(
        [
            {"name": "_ga", "value": "GA1.1.old", "domain": host, "path": "/"},
            {"name": "_ga_OLD123", "value": "GS1.1.old", "domain": host, "path": "/demo"},
            {"name": "unrelated", "value": "kept", "domain": host, "path": "/"},
        ]
    )
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Reject all").click()
    page.wait_for_timeout(300)
    assert ran(page) == []
    left = cookies(context)
    assert "_ga" not in left and "_ga_OLD123" not in left and left["unrelated"] == "kept"
    decision = recorded(live, page, "quadient")[0]
    assert decision["method"] == "reject_all" and decision["choices"] == {
        "necessary": True,
        "analytics": False,
        "marketing": False,
    }
    assert "cmp_consent" in left and "a=necessary&r=analytics.marketing" in left["cmp_consent"]


def test_withdrawing_later_deletes_the_cookies_again(live, page, context):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    page.wait_for_function("() => document.cookie.includes('_ga=')")

    page.get_by_role("link", name="Cookies settings").click()  # Quadient's footer link, data-cmp-open
    preferences = page.get_by_role("dialog", name="Privacy preferences")
    preferences.get_by_role("switch", name="Analytics").uncheck()
    preferences.get_by_role("button", name="Save my choices").click()
    page.wait_for_timeout(200)

    left = cookies(context)
    assert not any(name.startswith("_ga") or name == "_gid" for name in left)
    assert "qd_campaign" in left  # marketing stays allowed, its cookie stays
    assert page.evaluate("window.CMP.allowed('analytics')") is False
    assert [d["method"] for d in recorded(live, page, "quadient")] == ["withdrawal", "accept_all"]


# --- opt-out regions -------------------------------------------------------------------------------------------


def test_a_california_visitor_with_gpc_is_opted_out_recorded_as_gpc_and_told(live, page, context):
    context.add_init_script(SEND_GPC)
    visit(page, live.demo("anytime-postage", region="US-CA"))
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    dialog.wait_for()
    assert "Opt-out request honored" in dialog.get_by_role("status").inner_text()
    state = page.evaluate("window.CMP.state()")
    assert state["categories"]["advertising"] is False and state["categories"]["social"] is False
    assert state["categories"]["analytics"] is True and state["gpc"] is True
    page.wait_for_function("() => window.__ran.includes('analytics')")  # its tag loads from a URL: not at once
    assert "advertising" not in ran(page)

    decision = recorded(live, page, "anytime-postage")[0]
    assert decision["method"] == "gpc" and decision["signals"]["gpc"] is True
    assert decision["choices"]["advertising"] is False and decision["rule"]["key"] == "united-states"


def test_a_us_visitor_elsewhere_has_analytics_from_the_start_and_do_not_sell_turns_advertising_off(live, page, context):
    visit(page, live.demo("anytime-postage", region="US-TX"))
    page.wait_for_function("() => window.__ran.includes('advertising')")
    assert {"analytics", "analytics-inline"} <= set(ran(page))
    assert "atp_adid" in cookies(context)

    page.get_by_role("button", name="Do Not Sell or Share My Personal Information").click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.CMP.state().categories.advertising") is False
    assert "atp_adid" not in cookies(context) and "atp_vid" in cookies(context)
    decision = recorded(live, page, "anytime-postage")[0]
    assert decision["control"] == "do_not_sell" and decision["choices"]["advertising"] is False

    page.get_by_role("button", name="Privacy preferences").click()  # the floating reopen button
    preferences = page.get_by_role("dialog", name="Privacy preferences")
    assert "You opted out of the sale and sharing" in preferences.inner_text()


# --- embeds ----------------------------------------------------------------------------------------------------


def test_sodepac_widgets_stay_behind_their_placeholder_until_social_consent(live, page):
    visit(page, live.demo("sodepac", region="FR", lang="fr"))
    frames = page.locator("iframe[data-category=social]")
    assert frames.count() == 2
    page.wait_for_timeout(200)
    for i in range(2):
        assert frames.nth(i).get_attribute("src") is None and frames.nth(i).is_hidden()
    allow = page.get_by_role("button", name="Autoriser : Réseaux sociaux")
    assert allow.count() == 2
    allow.first.click()
    page.frame_locator("iframe[title='LinkedIn widget']").get_by_text("LinkedIn widget (demo): loaded").wait_for()
    assert page.get_by_role("button", name="Autoriser : Réseaux sociaux").count() == 0
    assert "statistics" not in ran(page)  # only what was asked for
    decision = recorded(live, page, "sodepac")[0]
    assert decision["control"] == "placeholder" and decision["choices"]["social"] is True


# --- Google Consent Mode ---------------------------------------------------------------------------------------


def consent_commands(page) -> list:
    return page.evaluate(
        "window.dataLayer.map(e => typeof e.length === 'number' ? Array.from(e) : e).filter(e => e[0] === 'consent')"
    )


def test_consent_mode_default_comes_before_any_google_tag_and_updates_carry_the_choice(live, page):
    visit(page, live.demo("quadient", region="FR"))
    page.get_by_role("button", name="Cookies settings").first.click()
    preferences = page.get_by_role("dialog", name="Privacy preferences")
    preferences.get_by_role("switch", name="Analytics").check()
    preferences.get_by_role("button", name="Save my choices").click()
    page.wait_for_function("() => window.__googleSawAtLoad")

    seen = page.evaluate("window.__googleSawAtLoad")
    assert seen[0][:2] == ["consent", "default"], "the default precedes the Google tag"
    assert seen[0][2]["analytics_storage"] == "denied" and seen[0][2]["security_storage"] == "granted"
    assert ["set", "ads_data_redaction", True] in seen
    update = consent_commands(page)[-1]
    assert update[1] == "update"
    assert update[2]["analytics_storage"] == "granted"
    assert update[2]["ad_storage"] == update[2]["ad_user_data"] == update[2]["ad_personalization"] == "denied"

    visit(page, live.demo("quadient", region="FR"))  # a returning visitor: default, then update at once
    commands = consent_commands(page)
    assert [c[1] for c in commands] == ["default", "update"] and commands[1][2]["analytics_storage"] == "granted"


def test_consent_mode_default_follows_the_region_and_an_inline_default_is_only_updated(live, page):
    visit(page, live.demo("quadient", region="US-CA"))
    default = consent_commands(page)[0]
    assert default[1] == "default" and default[2]["analytics_storage"] == "granted"
    assert default[2]["ad_storage"] == "denied"  # Quadient: marketing needs an opt-in everywhere

    visit(page, live.demo("quadient", region="US-CA", inline="1"))
    commands = consent_commands(page)
    assert [c[1] for c in commands] == ["default", "update"]
    assert commands[0][2]["analytics_storage"] == "denied" and commands[1][2]["analytics_storage"] == "granted"


# --- the failed post -------------------------------------------------------------------------------------------


def test_a_consent_post_that_failed_is_retried_and_lands_in_the_log(live, page, context):
    failures = []

    def server_down(route):
        failures.append(route.request.url)
        route.fulfill(status=503, body='{"message": "down"}', content_type="application/json")

    page.route("**/api/v1/decisions/**", server_down)
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Reject all").click()
    page.wait_for_function("() => window.CMP.state().decided")
    assert failures and stored(page, "quadient")["q"][0]["method"] == "reject_all"
    assert ran(page) == [] and banner(page).count() == 0  # honoured at once all the same

    page.unroute("**/api/v1/decisions/**")
    visit(page, live.demo("quadient", region="FR"))  # the next page load sends the queue
    assert recorded(live, page, "quadient")[0]["method"] == "reject_all"
    consent_id = stored(page, "quadient")["i"]
    assert f"i={consent_id}&" in cookies(context)["cmp_consent"], "the cookie gets the consent ID once known"


def test_a_decision_stored_but_whose_answer_was_lost_is_recorded_once(live, page):
    def answer_lost(route):
        route.fetch()  # the service stores it...
        route.fulfill(status=502, body="bad gateway")  # ...but the page never hears back

    page.route("**/api/v1/decisions/**", answer_lost)
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    page.wait_for_function("() => window.CMP.state().decided")
    page.wait_for_timeout(300)
    assert len(stored(page, "quadient")["q"]) == 1

    page.unroute("**/api/v1/decisions/**")
    visit(page, live.demo("quadient", region="FR"))  # the retry carries the same decision key
    assert [d["method"] for d in recorded(live, page, "quadient")] == ["accept_all"]


def test_a_decision_that_met_a_conflict_is_retried(live, page):
    conflicts = []

    def conflict_once(route):
        if conflicts:
            return route.continue_()
        conflicts.append(route.request.url)
        route.fulfill(status=409, body='{"message": "retry it"}', content_type="application/json")

    page.route("**/api/v1/decisions/**", conflict_once)
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Reject all").click()
    assert [d["method"] for d in recorded(live, page, "quadient")] == ["reject_all"] and conflicts


def test_a_decision_the_service_refuses_is_dropped_not_retried_forever(live, page):
    page.route(
        "**/api/v1/decisions/**",
        lambda route: route.fulfill(status=422, body='{"message": "no"}', content_type="application/json"),
    )
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Reject all").click()
    page.wait_for_function("() => JSON.parse(localStorage.getItem('cmp_quadient')).q.length === 0")
    assert [p for p in page.problems if "refused a decision" in p]
    page.problems.clear()


# --- escaping --------------------------------------------------------------------------------------------------


def test_an_owner_text_with_markup_is_shown_as_text(app, live, page, tmp_path):
    from ..conftest import republish

    evil = "<img src=x onerror=window.__xss=1>"
    live.load("quadient")
    republish(app, tmp_path, "quadient", lambda text: text.replace("title: Your privacy choices", f"title: '{evil}'"))
    visit(page, live.demo("quadient", region="FR"))
    dialog = page.get_by_role("dialog", name=evil)
    assert dialog.get_by_role("heading").inner_text() == evil
    assert page.locator("#cmp-ui img").count() == 0
    page.wait_for_timeout(200)
    assert page.evaluate("window.__xss") is None


# --- coming back -----------------------------------------------------------------------------------------------


def test_a_new_category_in_an_opt_in_region_is_asked_about_alone(app, live, page, tmp_path):
    from ..conftest import republish

    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    wait_recorded(page, "quadient")
    live.load("quadient")
    republish(app, tmp_path, "quadient", with_personalisation)
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")  # else the cached banner, for 5 minutes

    visit(page, live.demo("quadient", region="FR"))
    dialog = banner(page)
    assert "New since your last choice: Personalisation" in dialog.inner_text()
    page.wait_for_function("() => window.__ran.length === 4")  # what was granted before still runs
    assert page.evaluate("window.CMP.state().categories") == {
        "necessary": True,
        "analytics": True,
        "marketing": True,
        "personalisation": False,
    }
    dialog.get_by_role("button", name="Reject all").click()  # refuses what is new, keeps the rest
    decision = recorded(live, page, "quadient")[0]
    assert decision["choices"] == {"necessary": True, "analytics": True, "marketing": True, "personalisation": False}
    assert decision["method"] == "custom" and decision["control"] == "reject_all"


def test_an_expired_choice_is_asked_again(live, page, context):
    expired = "i=&v=0&t=1&x=2&a=necessary.analytics.marketing&r="
    context.add_cookies([{"name": "cmp_consent", "value": expired, "domain": "127.0.0.1", "path": "/"}])
    visit(page, live.demo("quadient", region="FR"))
    banner(page).wait_for()
    assert ran(page) == []


def test_the_owner_may_have_the_page_reloaded_after_an_opt_out(app, live, page, tmp_path):
    from ..conftest import republish

    live.load("quadient")
    republish(app, tmp_path, "quadient", lambda text: text + "\nsnippet: {reload_on_opt_out: true}\n")
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    page.wait_for_function("() => window.__ran.length === 4")
    page.evaluate("window.__beforeReload = true")
    with page.expect_navigation():
        page.evaluate("window.CMP.set({analytics: false})")
    page.wait_for_function("() => window.CMP && window.__ran.includes('marketing')")
    assert page.evaluate("window.__beforeReload") is None
    assert ran(page) == ["marketing"]


def test_do_not_track_is_honoured_where_the_rule_says_so_and_ignored_where_not(app, live, page, context, tmp_path):
    from ..conftest import republish

    context.add_init_script("Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});")
    visit(page, live.demo("optipost", region="BE"))  # OptiPost ignores DNT
    banner_optipost = page.get_by_role("dialog", name="Cookies on the OptiPost site")
    banner_optipost.wait_for()
    assert page.evaluate("window.CMP.state().decided") is False

    live.load("sodepac")
    republish(app, tmp_path, "sodepac", lambda text: text.replace("dnt: ignore", "dnt: reject_all"))
    visit(page, live.demo("sodepac", region="JP", lang="en"))  # a notice region: statistics would run
    assert page.evaluate("window.CMP.state().categories") == {"necessary": True, "statistics": False, "social": False}
    decision = recorded(live, page, "sodepac")[0]
    assert decision["method"] == "dnt" and decision["signals"]["dnt"] is True


# --- where the tag is, single-page apps --------------------------------------------------------------------------


def test_the_tag_works_deferred_at_the_end_of_the_body(live, page):
    visit(page, live.demo("quadient", region="FR", tag="body"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    page.wait_for_function("() => window.__ran.length === 4")
    assert ran(page) == ALL_QUADIENT_TAGS


def test_a_single_page_app_rescans_for_new_gated_elements(live, page):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    page.wait_for_function("() => window.__ran.length === 4")
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.type = "text/plain";
        script.dataset.category = "analytics";
        script.text = "demoTag('rendered-later', '')";
        document.body.append(script);
        window.CMP.scan();
    }"""
    )
    page.wait_for_function("() => window.__ran.includes('rendered-later')")
    page.evaluate("window.CMP.scan()")
    assert ran(page).count("rendered-later") == 1


def test_the_public_api_reads_subscribes_and_decides(live, page):
    visit(page, live.demo("quadient", region="FR"))
    page.evaluate(
        "() => { window.__changes = []; window.__off = window.CMP.on(s => window.__changes.push(s.categories)) }"
    )
    page.evaluate("() => window.CMP.acceptAll()")
    assert page.evaluate("window.__changes") == [{"necessary": True, "analytics": True, "marketing": True}]
    page.evaluate("() => { window.__off(); window.CMP.set({marketing: false, nonsense: true}) }")
    assert len(page.evaluate("window.__changes")) == 1
    state = page.evaluate("window.CMP.state()")
    assert state["decided"] and state["categories"] == {"necessary": True, "analytics": True, "marketing": False}
    decisions = recorded(live, page, "quadient")
    assert [(d["method"], d["control"]) for d in decisions] == [("withdrawal", "api"), ("accept_all", "api")]
    assert page.evaluate("window.CMP.state().receipt").count(".") == 2  # a compact JWS


def test_a_returning_visitor_who_turns_gpc_on_is_opted_out_and_told(live, page, context):
    visit(page, live.demo("anytime-postage", region="US-CA"))
    page.get_by_role("dialog", name="Your privacy choices").get_by_role("button", name="OK", exact=True).click()
    assert recorded(live, page, "anytime-postage")[0]["choices"]["advertising"] is True

    context.add_init_script(SEND_GPC)
    visit(page, live.demo("anytime-postage", region="US-CA"))
    dialog = page.get_by_role("dialog", name="Your privacy choices")
    assert "Opt-out request honored" in dialog.get_by_role("status").inner_text()
    assert page.evaluate("window.CMP.allowed('advertising')") is False
    assert [d["method"] for d in recorded(live, page, "anytime-postage")] == ["gpc", "custom"]


def test_in_a_notice_region_widgets_run_from_the_start_and_stop_on_opt_out(live, page):
    visit(page, live.demo("sodepac", region="JP", lang="en"))
    linkedin = page.frame_locator("iframe[title='LinkedIn widget']")
    linkedin.get_by_text("LinkedIn widget (demo): loaded").wait_for()
    page.evaluate(
        "() => { window.__events = []; document.addEventListener('cmp:change', e => window.__events.push(e.detail)) }"
    )

    page.get_by_role("button", name="Cookie settings").click()
    preferences = page.get_by_role("dialog", name="Privacy preferences")
    preferences.get_by_role("switch", name="Social networks").uncheck()
    preferences.get_by_role("button", name="Save my choices").click()

    frame = page.locator("iframe[title='LinkedIn widget']")
    assert frame.get_attribute("src") is None and frame.is_hidden()
    page.wait_for_timeout(200)
    assert not [f.url for f in page.frames if "/demo/widget/" in f.url], "the widgets are unloaded"
    assert page.get_by_role("button", name="Allow Social networks").count() == 2
    events = page.evaluate("window.__events")
    assert len(events) == 1 and events[0]["categories"]["social"] is False


def test_advanced_consent_mode_loads_the_google_tag_before_a_choice_and_nothing_else(app, live, page, tmp_path):
    from ..conftest import republish

    live.load("quadient")
    republish(app, tmp_path, "quadient", lambda text: text + "\nsnippet: {consent_mode: {advanced: true}}\n")
    visit(page, live.demo("quadient", region="FR"))
    page.wait_for_function("() => window.__ran.includes('google-tag')")
    assert ran(page) == ["google-tag"]
    seen = page.evaluate("window.__googleSawAtLoad")
    assert seen[0][:2] == ["consent", "default"] and seen[0][2]["analytics_storage"] == "denied"


def test_a_new_vendor_in_an_allowed_category_is_asked_about_before_it_runs(app, live, page, tmp_path):
    import yaml

    from ..conftest import republish

    def add_vendor(text: str) -> str:
        config = yaml.safe_load(text)
        config["vendors"].append({"key": "hotjar", "name": "Hotjar", "category": "analytics"})
        return yaml.safe_dump(config, allow_unicode=True)

    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Accept all cookies").click()
    wait_recorded(page, "quadient")
    republish(app, tmp_path, "quadient", add_vendor)
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")

    visit(page, live.demo("quadient", region="FR"))
    assert "New since your last choice: Analytics" in banner(page).inner_text()
    page.wait_for_function("() => window.__ran.includes('marketing')")
    assert "analytics" not in ran(page)  # consent given before did not cover the new vendor
    banner(page).get_by_role("button", name="Accept all cookies").click()
    page.wait_for_function("() => window.__ran.includes('analytics')")
    assert recorded(live, page, "quadient")[0]["method"] == "accept_all"


def test_the_preference_center_links_to_the_hosted_one_with_the_visitors_history(live, page):
    visit(page, live.demo("quadient", region="FR"))
    banner(page).get_by_role("button", name="Reject all").click()
    wait_recorded(page, "quadient")
    page.get_by_role("button", name="Privacy preferences").click()
    page.get_by_role("link", name="Your recorded choices, their history and receipts").click()
    page.wait_for_url("**/sites/quadient/preferences**")
    assert "secret" not in page.url  # the hosted page keeps them in its own cookie
    assert "Rejected all" in page.inner_text("body")
    page.get_by_role("link", name="Back to Quadient").click()  # the page the visitor came from
    page.wait_for_url("**/demo/quadient?region=FR")

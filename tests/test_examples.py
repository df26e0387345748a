"""The five launch customers: each site's banner, for an EEA, a California and an "elsewhere" visitor, is what its
own policy describes and what the law of the visitor's region requires."""

from __future__ import annotations

import pytest

EEA, CALIFORNIA, ELSEWHERE = "FR", "US-CA", "JP"

# site -> visitor region -> (rule, model served, GPC treatment served)
EXPECTED = {
    "quadient": {
        EEA: ("opt-in-regions", "opt_in", "reject_all"),
        CALIFORNIA: ("california", "opt_out", "opt_out"),
        ELSEWHERE: ("rest-of-world", "opt_out", "opt_out"),
    },
    "optipost": {
        EEA: ("everywhere", "opt_in", "reject_all"),
        CALIFORNIA: ("everywhere", "opt_in", "reject_all"),
        ELSEWHERE: ("everywhere", "opt_in", "reject_all"),
    },
    "unifiedpost": {
        EEA: ("everywhere", "opt_in", "reject_all"),
        CALIFORNIA: ("everywhere", "opt_in", "reject_all"),
        ELSEWHERE: ("everywhere", "opt_in", "reject_all"),
    },
    "sodepac": {
        EEA: ("everywhere", "opt_in", "ignore"),
        CALIFORNIA: ("everywhere", "notice", "opt_out"),
        ELSEWHERE: ("everywhere", "notice", "ignore"),
    },
    "anytime-postage": {
        EEA: ("eea-uk", "opt_in", "reject_all"),
        CALIFORNIA: ("united-states", "opt_out", "opt_out"),
        ELSEWHERE: ("rest-of-world", "notice", "opt_out"),
    },
}


def banner(client, site, region, lang=None):
    query = f"?region={region}" + (f"&lang={lang}" if lang else "")
    response = client.get(f"/api/v1/banner/{site}{query}")
    assert response.status_code == 200, response.json
    return response.json


def defaults(body):
    return {c["key"]: c["default"] for c in body["categories"]}


@pytest.mark.parametrize("site", sorted(EXPECTED))
@pytest.mark.parametrize("region", [EEA, CALIFORNIA, ELSEWHERE])
def test_each_site_serves_the_right_rule_to_each_region(client, examples, site, region):
    body = banner(client, site, region)
    rule = body["rule"]
    assert (rule["key"], rule["model"], rule["gpc"]) == EXPECTED[site][region]
    if rule["model"] == "opt_in":
        assert not any(on for key, on in defaults(body).items() if not _necessary(body, key))
        assert {"accept_all", "reject_all"} <= set(rule["first_layer"]["buttons"]) or region != EEA
    assert all(c["default"] for c in body["categories"] if c["necessary"])


def _necessary(body, key):
    return next(c["necessary"] for c in body["categories"] if c["key"] == key)


def test_quadient_marketing_needs_an_opt_in_even_in_california(client, examples):
    assert defaults(banner(client, "quadient", CALIFORNIA)) == {
        "necessary": True,
        "analytics": True,
        "marketing": False,
    }


def test_quadient_shows_no_do_not_sell_link_because_it_does_not_sell(client, examples):
    assert "do_not_sell" not in banner(client, "quadient", CALIFORNIA)["rule"]["first_layer"]["links"]


def test_optipost_facebook_waits_for_consent(client, examples):
    social = next(c for c in banner(client, "optipost", EEA)["categories"] if c["purpose"] == "social")
    assert social["default"] is False and any(v["name"].startswith("Facebook") for v in social["vendors"])


def test_unifiedpost_keeps_its_own_wording_and_gets_a_reject_button_in_the_eu(client, examples):
    body = banner(client, "unifiedpost", EEA, "en")
    assert body["texts"]["body"].startswith("We, and third parties, use cookies on our websites.")
    assert body["texts"]["accept_all"] == "Accept all cookies"
    assert body["texts"]["preferences"] == "Change my settings"
    assert body["rule"]["first_layer"]["buttons"] == ["accept_all", "reject_all", "preferences"]
    assert [a["code"] for a in body["rule"]["adjustments"]] == ["reject_missing"]


def test_sodepac_speaks_french_first_and_never_counts_browsing_as_consent_in_france(client, examples):
    body = banner(client, "sodepac", EEA)
    assert body["language"] == "fr"
    assert body["rule"]["implied_consent"] is False and body["rule"]["dnt"] == "ignore"
    assert "continuez" not in body["texts"]["body"]  # the owner's opt-in wording, not "continuing means yes"
    social = next(c for c in body["categories"] if c["key"] == "social")
    assert social["default"] is False
    assert {"LinkedIn", "Facebook"} <= {v["name"].split()[0] for v in social["vendors"]}
    elsewhere = banner(client, "sodepac", ELSEWHERE)
    assert elsewhere["rule"]["implied_consent"] is True and "continuez" in elsewhere["texts"]["body"]


def test_anytime_postage_californians_can_opt_out_of_sale_and_gpc_is_honoured(client, examples):
    body = banner(client, "anytime-postage", CALIFORNIA)
    assert "do_not_sell" in body["rule"]["first_layer"]["links"]
    assert body["texts"]["do_not_sell"] == "Do Not Sell or Share My Personal Information"
    assert "gpc_ignored" in [a["code"] for a in body["rule"]["adjustments"]]
    assert body["rule"]["dnt"] == "ignore"
    pixels = [c for cat in body["categories"] for v in cat["vendors"] for c in v["cookies"] if c["type"] == "pixel"]
    assert pixels, "web beacons are declared"


def test_the_landing_page_lists_every_site_with_its_banners(client, examples):
    page = client.get("/").get_data(as_text=True)
    for site in EXPECTED:
        assert f"/api/v1/banner/{site}?region=FR" in page.replace("&amp;", "&")
    assert "reject_missing" not in page and "Reject all" in page  # warnings are shown in words

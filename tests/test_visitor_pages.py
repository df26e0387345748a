"""Pages visitors read: the cookie declaration and its archive, gpc.json, and the hosted preference center, which
works with plain forms (these tests, like a browser without JavaScript, submit them)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import yaml

from .conftest import EXAMPLE_KEYS, ROOT, load_examples, republish
from .test_decisions import decide


def example(key: str) -> dict:
    return yaml.safe_load((ROOT / "examples" / f"{key}.yaml").read_text())


# --- the cookie declaration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("site", EXAMPLE_KEYS)
def test_the_declaration_lists_every_cookie_of_each_example_site_in_each_of_its_languages(client, examples, site):
    config = example(site)
    for text in config["texts"]:
        language = text["language"]
        page = client.get(f"/sites/{site}/declaration?lang={language}")
        assert page.status_code == 200 and f'<html lang="{language}"' in page.text
        assert page.headers["Content-Language"] == language
        for vendor in config["vendors"]:
            assert vendor["name"] in page.text.replace("&amp;", "&")
            for cookie in vendor.get("cookies", []):
                assert f"<code>{cookie['name']}</code>" in page.text
                purpose = cookie.get("purpose", {}).get(language)
                if purpose:
                    assert purpose.replace("'", "&#39;") in page.text


def test_the_declaration_is_json_too(client, quadient):
    body = client.get("/sites/quadient/declaration.json?lang=fr").json
    assert body["language"] == "fr" and len(body["version"]) == 64
    analytics = next(c for c in body["categories"] if c["key"] == "analytics")
    assert [c["name"] for c in analytics["vendors"][0]["cookies"]] == ["_ga", "_ga_*", "_gid"]


def test_the_embeddable_declaration_may_be_framed_by_the_sites_own_pages_only(client, quadient):
    full = client.get("/sites/quadient/declaration")
    assert "frame-ancestors 'none'" in full.headers["Content-Security-Policy"]
    embedded = client.get("/sites/quadient/declaration?embed=1")
    policy = embedded.headers["Content-Security-Policy"]
    assert "frame-ancestors https://quadient.com https://www.quadient.com" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy  # no script at all


def test_owner_texts_are_shown_as_text(app, client, tmp_path, quadient):
    attack = "<img src=x onerror=alert(1)>"
    republish(app, tmp_path, "quadient", lambda text: text.replace("Distinguishes visitors.", attack))
    page = client.get("/sites/quadient/declaration").text
    assert attack not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_archive_shows_each_version_with_the_dates_it_was_in_effect(app, client, tmp_path, quadient):
    first = client.get("/sites/quadient/declaration.json").json["version"]
    republish(app, tmp_path, "quadient", lambda text: text.replace("Distinguishes visitors.", "Tells visitors apart."))
    archive = client.get("/sites/quadient/versions")
    assert archive.status_code == 200
    assert re.search(r"1\s*<br><code title=\"" + first, archive.text)
    assert "2 (current)" in archive.text and "until" in archive.text
    old = client.get(f"/sites/quadient/versions/{first}/declaration")
    assert "Distinguishes visitors." in old.text and "Tells visitors apart." not in old.text
    assert client.get("/sites/quadient/versions/" + "0" * 64 + "/declaration").status_code == 404


# --- gpc.json -----------------------------------------------------------------------------------------------


def test_gpc_json_answers_for_the_sites_own_domains(client, examples):
    answer = client.get("/.well-known/gpc.json", headers={"Host": "www.quadient.com"})
    assert answer.status_code == 200 and answer.json["gpc"] is True
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", answer.json["lastUpdate"])
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/.well-known/gpc.json", headers={"Host": "unknown.example"}).status_code == 404


# --- the hosted preference center ---------------------------------------------------------------------------


def open_preferences(client, visitor: dict, **params):
    """Follow the snippet's link: the credentials arrive once, in the query, and move into a cookie."""
    query = {"consent_id": visitor["consent_id"], "secret": visitor["secret"], **params}
    arriving = client.get("/sites/quadient/preferences", query_string=query)
    assert arriving.status_code == 303 and "secret" not in arriving.headers["Location"]
    assert "HttpOnly" in arriving.headers["Set-Cookie"]
    return client.get(arriving.headers["Location"])


def submit(client, page, action: str, categories=(), **fields):
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {"csrf": csrf, "action": action, "category": list(categories), **fields}
    saved = client.post("/sites/quadient/preferences", data=form)
    assert saved.status_code == 303, saved.text
    return client.get(saved.headers["Location"])


def test_a_visitor_changes_a_category_without_javascript_and_sees_both_decisions(client, quadient):
    accepted = decide(client, method="accept_all", control="accept_all",
                      choices={"necessary": True, "analytics": True, "marketing": True}).json  # fmt: skip
    page = open_preferences(client, accepted, lang="en")
    assert "Allowed" in page.text and "Accepted all" in page.text
    assert 'name="category" value="analytics" checked' in page.text

    after = submit(client, page, "save", categories=["analytics"])  # marketing withdrawn
    assert "Your choice was saved and recorded." in after.text
    assert "Withdrew consent" in after.text and "Accepted all" in after.text  # the history lists both
    assert 'name="category" value="marketing" aria' in after.text  # unchecked now

    history = client.get(
        f"/api/v1/decisions/quadient/{accepted['consent_id']}", headers={"X-Consent-Secret": accepted["secret"]}
    ).json
    latest = history["current"]["document"]
    assert latest["method"] == "withdrawal" and latest["choices"]["marketing"] is False
    assert latest["layer"] == 2 and latest["control"] == "hosted_save" and history["current"]["receipt"]


def test_receipts_download_as_json_and_print_for_their_visitor_only(app, client, quadient):
    visitor = decide(client).json
    page = open_preferences(client, visitor)
    printable = re.search(r'href="(/sites/quadient/preferences/receipts/[0-9a-f-]{36})\?', page.text).group(1)
    assert visitor["receipt"] in client.get(printable).text
    download = client.get(printable + ".json")
    assert download.json["receipt"] == visitor["receipt"] and "attachment" in download.headers["Content-Disposition"]
    stranger = app.test_client()
    assert stranger.get(printable).status_code == 403 and stranger.get(printable + ".json").status_code == 403


def test_another_visitors_consent_id_without_its_secret_gets_nothing(app, client, quadient):
    visitor = decide(client).json
    stranger = app.test_client()
    forged = {"consent_id": visitor["consent_id"], "secret": "x" * 43}
    assert stranger.get("/sites/quadient/preferences", query_string=forged).status_code == 403
    page = stranger.get("/sites/quadient/preferences")
    assert page.status_code == 200 and "No choice has been recorded" in page.text
    assert visitor["record_id"] not in page.text


def test_a_first_choice_can_be_made_on_the_page_itself(client, quadient):
    page = client.get("/sites/quadient/preferences?region=FR")
    assert "No choice has been recorded" in page.text
    after = submit(client, page, "reject_all", region="FR")
    assert "Rejected all" in after.text  # the page now knows this browser by its new cookie


def test_the_form_needs_its_token_and_the_page_its_strict_policy(client, quadient):
    page = client.get("/sites/quadient/preferences")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    refused = client.post("/sites/quadient/preferences", data={"action": "accept_all", "csrf": "forged"})
    assert refused.status_code == 400


def test_back_to_the_site_only_leads_to_the_sites_own_pages(client, quadient):
    visitor = decide(client).json
    good = open_preferences(client, visitor, **{"return": "https://www.quadient.com/en/products"})
    assert 'href="https://www.quadient.com/en/products#cmp-sync"' in good.text
    evil = open_preferences(client, visitor, **{"return": "https://evil.example/phish"})
    assert "evil.example" not in evil.text


def test_in_california_the_page_is_the_do_not_sell_page_and_says_a_gpc_opt_out_was_honoured(app, client):
    load_examples(app, [ROOT / "examples" / "anytime-postage.yaml"])
    version = client.get("/api/v1/banner/anytime-postage?region=US-CA").json
    choices = {c["key"]: c["necessary"] or not c["sale_or_sharing"] for c in version["categories"]}
    gpc = decide(client, site="anytime-postage", version=version["version"], region="US-CA", method="gpc",
                 layer=None, control=None, choices=choices, signals={"gpc": True},
                 headers={"Sec-GPC": "1", "Origin": "https://www.anytimepostage.com"})  # fmt: skip
    assert gpc.status_code == 201, gpc.json
    query = {"consent_id": gpc.json["consent_id"], "secret": gpc.json["secret"], "region": "US-CA"}
    arriving = client.get("/sites/anytime-postage/preferences", query_string=query)
    page = client.get(arriving.headers["Location"], headers={"Sec-GPC": "1"})
    assert "Do Not Sell or Share My Personal Information" in page.text
    assert "Global Privacy Control signal was honoured" in page.text
    assert "You have opted out of the sale and sharing" in page.text


# --- notices of a material change --------------------------------------------------------------------------


def test_a_material_change_carries_its_notice_in_the_banner_for_the_days_set(app, client, tmp_path, quadient):
    assert client.get("/api/v1/banner/quadient?region=FR").json["notice"] is None
    edited = tmp_path / "quadient.yaml"
    edited.write_text((ROOT / "examples" / "quadient.yaml").read_text().replace("Distinguishes visitors.", "Counts."))
    result = app.test_cli_runner().invoke(
        args=[
            "cmp",
            "load",
            str(edited),
            "--notice",
            "en=We updated our cookie statement.",
            "--notice",
            "fr=Nous avons mis à jour notre déclaration.",
            "--notice-days",
            "30",
        ]
    )
    assert result.exit_code == 0, result.output
    app.extensions["cmp.live"].forget("quadient")
    french = client.get("/api/v1/banner/quadient?region=FR&lang=fr").json["notice"]
    assert french["message"] == "Nous avons mis à jour notre déclaration."
    published, until = datetime.fromisoformat(french["published_at"]), datetime.fromisoformat(french["until"])
    assert until - published == timedelta(days=30)
    versions = client.get("/api/v1/sites/quadient/versions")  # needs a key: the owner API
    assert versions.status_code == 401


def test_a_notice_needs_the_default_language(app, tmp_path, quadient):
    edited = tmp_path / "quadient.yaml"
    edited.write_text((ROOT / "examples" / "quadient.yaml").read_text().replace("Distinguishes visitors.", "Counts."))
    result = app.test_cli_runner().invoke(args=["cmp", "load", str(edited), "--notice", "fr=Seulement en français"])
    assert result.exit_code != 0 and "default language 'en'" in result.output


def test_owners_publish_a_material_change_through_the_api(client, owner_of, quadient):
    owner = owner_of("quadient")
    site = owner.get("/api/v1/sites/quadient").json
    owner.patch("/api/v1/sites/quadient", json={"name": site["name"] + " Group"})
    answer = owner.post("/api/v1/sites/quadient/versions", json={"notice": {"en": "We renamed ourselves."}})
    assert answer.status_code == 201, answer.json
    assert answer.json["version"]["publications"][-1]["notice"] == {"en": "We renamed ourselves."}
    refused = owner.post("/api/v1/sites/quadient/versions", json={"notice_days": 10})
    assert refused.status_code == 422 and "notice_days" in refused.json["errors"]["json"]

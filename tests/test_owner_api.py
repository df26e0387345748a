"""The owner API: what an owner, an auditor, another site's owner and the operator can and cannot do."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consent.extensions import db
from consent.models import ApiKey, Category, PublishedVersion

from .conftest import ROOT, ApiClient, load_examples

SITE = "/api/v1/sites/quadient"
NEW_SITE = {
    "key": "bakery",
    "name": "The Bakery",
    "domains": ["bakery.example", "*.bakery.example"],
    "default_language": "en",
}
CATEGORY = {"key": "preferences", "purpose": "preferences", "name": {"en": "Preferences", "fr": "Préférences"}}


@pytest.fixture
def owner(quadient, owner_of) -> ApiClient:
    return owner_of("quadient")


# --- authentication and isolation ------------------------------------------------------------------------------


def test_no_key_no_access(client, quadient):
    response = client.get(SITE)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_or_revoked_key_is_refused(client, owner):
    assert ApiClient(client, "cmp_not-a-key").get(SITE).status_code == 401
    (key_id,) = [k["id"] for k in owner.get(f"{SITE}/api-keys").json]
    assert owner.delete(f"{SITE}/api-keys/{key_id}").status_code == 204
    assert owner.get(SITE).status_code == 401


def test_keys_are_stored_only_as_digests(app, owner):
    secret = owner.headers["Authorization"].split()[1]
    with app.app_context():
        stored = db.session.scalars(select(ApiKey)).all()
    assert all(secret not in (k.key_hash, k.prefix) and len(k.key_hash) == 64 for k in stored)
    assert "key" not in owner.get(f"{SITE}/api-keys").json[0]


def test_one_sites_key_never_reads_or_changes_another_site(app, client, owner_of):
    load_examples(app, [ROOT / "examples" / "quadient.yaml", ROOT / "examples" / "optipost.yaml"])
    optipost = owner_of("optipost")
    assert optipost.get(SITE).status_code == 403
    assert optipost.get(f"{SITE}/config").status_code == 403
    assert optipost.patch(f"{SITE}/categories/analytics", json={"name": {"en": "Stolen"}}).status_code == 403
    assert optipost.post(f"{SITE}/versions", json={}).status_code == 403
    assert optipost.post(f"{SITE}/api-keys", json={"role": "owner", "name": "x"}).status_code == 403
    assert [s["key"] for s in optipost.get("/api/v1/sites").json] == ["optipost"]
    with app.app_context():
        names = db.session.scalars(select(Category.name).where(Category.key == "analytics")).all()
    assert names == [{"en": "Analytics", "fr": "Mesure d'audience"}]


def test_auditor_keys_are_read_only(quadient, owner_of):
    auditor = owner_of("quadient", "auditor")
    assert auditor.get(f"{SITE}/config").status_code == 200
    assert auditor.get(f"{SITE}/versions").status_code == 200
    response = auditor.post(f"{SITE}/categories", json=CATEGORY)
    assert response.status_code == 403 and "read-only" in response.json["message"]
    assert auditor.post(f"{SITE}/versions", json={}).status_code == 403


def test_only_the_operator_creates_sites(admin, owner):
    assert owner.post("/api/v1/sites", json=NEW_SITE).status_code == 403
    response = admin.post("/api/v1/sites", json=NEW_SITE)
    assert response.status_code == 201
    assert response.json["live_version"] is None and response.json["retention_days"] == 1825
    assert admin.post("/api/v1/sites", json=NEW_SITE).status_code == 409


# --- validation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({**CATEGORY, "purpose": "tracking"}, "purpose"),
        ({**CATEGORY, "key": "Bad Key"}, "key"),
        ({**CATEGORY, "name": {}}, "name"),
        ({**CATEGORY, "name": {"english": "x"}}, "name"),
        ({**CATEGORY, "sale_or_sharing": "yes"}, "sale_or_sharing"),
        ({**CATEGORY, "colour": "red"}, "colour"),
        ({k: v for k, v in CATEGORY.items() if k != "purpose"}, "purpose"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(owner, body, field):
    response = owner.post(f"{SITE}/categories", json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_a_vendor_in_a_category_that_does_not_exist_is_refused(owner):
    vendor = {"key": "hotjar", "name": "Hotjar", "category": "heatmaps"}
    response = owner.post(f"{SITE}/vendors", json=vendor)
    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"category": ["unknown category 'heatmaps'"]}


def test_bad_cookie_entries_are_named_by_position(owner):
    vendor = {
        "key": "hotjar",
        "name": "Hotjar",
        "category": "analytics",
        "cookies": [{"name": "_hj*", "duration": "1 year"}, {"name": "bad name", "duration": "forever"}],
    }
    errors = owner.post(f"{SITE}/vendors", json=vendor).json["errors"]["json"]
    assert set(errors["cookies"]["1"]) == {"name", "duration"}


def test_a_rule_claiming_a_region_another_rule_claims_is_refused(owner):
    rule = {"key": "eu-again", "regions": ["EU"], "model": "opt_in", "first_layer": {"buttons": ["accept_all"]}}
    response = owner.post(f"{SITE}/rules", json=rule)
    assert response.status_code == 422 and "both claim" in str(response.json["errors"]["json"]["regions"])


def test_a_region_that_does_not_exist_is_refused(owner):
    rule = {"key": "mars", "regions": ["MA-RS"], "model": "opt_in", "first_layer": {"buttons": ["accept_all"]}}
    response = owner.post(f"{SITE}/rules", json=rule)
    assert response.status_code == 422 and "0" in response.json["errors"]["json"]["regions"]


def test_a_non_json_body_is_a_clear_4xx(owner):
    response = owner.post(f"{SITE}/categories", data="not json", headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500 and response.is_json


def test_an_oversized_body_is_refused(owner):
    response = owner.post(f"{SITE}/categories", json={**CATEGORY, "description": {"en": "x" * 2_000_000}})
    assert response.status_code == 413 and response.is_json


def test_a_refused_change_writes_nothing(owner):
    before = owner.get(f"{SITE}/config").json
    owner.patch(f"{SITE}/rules/california", json={"regions": ["US-CA", "NOWHERE"]})
    owner.post(f"{SITE}/vendors", json={"key": "x", "name": "X", "category": "nope"})
    assert owner.get(f"{SITE}/config").json == before


# --- editing the draft -----------------------------------------------------------------------------------------


def test_an_owner_edits_the_draft_without_changing_what_visitors_see(client, owner):
    live = client.get("/api/v1/banner/quadient?region=DE").json
    assert owner.post(f"{SITE}/categories", json=CATEGORY).status_code == 201
    assert owner.get(f"{SITE}/categories/preferences").json["name"]["fr"] == "Préférences"
    assert owner.get(SITE).json["draft_changed"] is True
    assert client.get("/api/v1/banner/quadient?region=DE").json == live


def test_patch_keeps_the_fields_not_sent(owner):
    response = owner.patch(f"{SITE}/rules/california", json={"consent_lifetime_days": 200})
    assert response.status_code == 200
    rule = owner.get(f"{SITE}/rules/california").json
    assert rule["consent_lifetime_days"] == 200 and rule["regions"] == ["US-CA"] and rule["gpc"] == "opt_out"


def test_the_key_of_an_entry_cannot_be_changed_by_patch(owner):
    response = owner.patch(f"{SITE}/categories/analytics", json={"key": "stats"})
    assert response.status_code == 422 and "key" in response.json["errors"]["json"]


def test_a_category_in_use_cannot_be_deleted(owner):
    response = owner.delete(f"{SITE}/categories/analytics")
    assert response.status_code == 409 and "vendors" in response.json["message"]
    assert owner.delete(f"{SITE}/vendors/google-analytics").status_code == 204
    assert owner.delete(f"{SITE}/categories/analytics").status_code == 204


def test_texts_are_keyed_by_language(owner):
    text = {"language": "de", "title": "Ihre Datenschutz-Einstellungen", "body": "Wir verwenden Cookies."}
    assert owner.post(f"{SITE}/texts", json=text).status_code == 201
    assert owner.patch(f"{SITE}/texts/de", json={"reject_all": "Alle ablehnen"}).json["reject_all"] == "Alle ablehnen"
    assert [t["language"] for t in owner.get(f"{SITE}/texts").json] == ["en", "fr", "de"]


def test_the_whole_draft_is_replaced_in_the_file_format(owner):
    config = owner.get(f"{SITE}/config").json
    config["categories"][1]["name"]["en"] = "Audience measurement"
    response = owner.put(f"{SITE}/config", json=config)
    assert response.status_code == 200 and response.json["categories"][1]["name"]["en"] == "Audience measurement"
    config["site"]["key"] = "other"
    assert owner.put(f"{SITE}/config", json=config).status_code == 422


def test_site_settings_change_but_the_key_stays(owner):
    response = owner.patch(SITE, json={"domains": ["quadient.com", "www.quadient.com", "shop.quadient.com"]})
    assert response.status_code == 200 and len(response.json["domains"]) == 3
    assert owner.patch(SITE, json={"key": "renamed"}).status_code == 422


# --- compliance and publishing ---------------------------------------------------------------------------------


def test_the_owner_is_warned_before_publishing(owner):
    assert owner.get(f"{SITE}/compliance").json == []
    owner.patch(f"{SITE}/rules/opt-in-regions", json={"first_layer": {"buttons": ["accept_all", "preferences"]}})
    warnings = owner.get(f"{SITE}/compliance").json
    assert {w["code"] for w in warnings} == {"reject_missing"}
    (eea,) = [w for w in warnings if w["law"] == "GDPR and ePrivacy Directive"]
    assert eea["rule"] == "opt-in-regions" and eea["regions"] == ["EEA"] and eea["served"] == "reject_all"
    assert {w["law"] for w in warnings} > {"GDPR and ePrivacy Directive", "UK GDPR and PECR"}


def test_publishing_freezes_a_new_version_and_makes_it_live(client, owner):
    owner.patch(f"{SITE}/texts/en", json={"title": "Cookies on quadient.com"})
    response = owner.post(f"{SITE}/versions", json={"note": "new title"})
    assert response.status_code == 201 and response.json["went_live"] is True
    version = response.json["version"]
    assert version["number"] == 2 and version["live"] is True
    assert version["publications"][0]["note"] == "new title"
    banner = client.get("/api/v1/banner/quadient?region=DE").json
    assert banner["version"] == version["hash"] and banner["texts"]["title"] == "Cookies on quadient.com"
    versions = owner.get(f"{SITE}/versions").json
    assert [v["number"] for v in versions] == [2, 1] and [v["live"] for v in versions] == [True, False]


def test_publishing_an_unchanged_draft_changes_nothing(app, owner):
    response = owner.post(f"{SITE}/versions", json={})
    assert response.status_code == 200 and response.json["went_live"] is False
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PublishedVersion)) == 1


def test_going_back_to_an_earlier_configuration_makes_that_version_live_again(owner):
    original = owner.get(f"{SITE}/config").json
    owner.patch(f"{SITE}/texts/en", json={"title": "Changed"})
    owner.post(f"{SITE}/versions", json={})
    owner.put(f"{SITE}/config", json=original)
    response = owner.post(f"{SITE}/versions", json={})
    assert response.json["version"]["number"] == 1 and len(response.json["version"]["publications"]) == 2


def test_every_version_stays_retrievable_with_what_it_froze(owner):
    first = owner.get(f"{SITE}/versions").json[0]
    owner.patch(f"{SITE}/texts/en", json={"title": "Changed"})
    owner.post(f"{SITE}/versions", json={})
    old = owner.get(f"{SITE}/versions/{first['hash']}").json
    assert old["document"]["texts"][0]["title"] == "Your privacy choices" and old["live"] is False
    assert owner.get(f"{SITE}/versions/{'0' * 64}").status_code == 404


def test_an_unpublishable_draft_is_refused_with_the_reasons(owner):
    owner.delete(f"{SITE}/rules/rest-of-world")
    response = owner.post(f"{SITE}/versions", json={})
    assert response.status_code == 422 and "'*'" in str(response.json["errors"]["json"]["rules"])


def test_a_sites_keys_are_managed_by_its_owner(owner):
    response = owner.post(f"{SITE}/api-keys", json={"role": "auditor", "name": "DPO"})
    assert response.status_code == 201 and response.json["key"].startswith("cmp_")
    assert owner.post(f"{SITE}/api-keys", json={"role": "admin", "name": "me"}).status_code == 422


def test_an_api_key_id_beyond_the_database_integer_is_not_found(owner):
    # found by fuzzing: an id past 2**31 overflowed the database integer (a 500)
    assert owner.delete(f"{SITE}/api-keys/164994956516979900416").status_code == 404
    assert owner.delete(f"{SITE}/api-keys/2147483648").status_code == 404


@pytest.mark.parametrize(
    "text",
    [
        {"language": "vv-cS2sia5D-9KQu1vR0-aPpc-4gH5-K4JcKc-XRcI8i", "title": "T", "body": "B"},  # longer than 35
        {"language": "de", "title": "nul \x00 byte", "body": "B"},
        {"language": "de", "title": "T", "body": "lone \ud800 surrogate"},
    ],
)
def test_text_no_database_can_store_is_a_422_not_a_500(owner, text):
    # found by fuzzing on PostgreSQL: these reached the database and failed there
    import json

    response = owner.post(f"{SITE}/texts", data=json.dumps(text), headers={"Content-Type": "application/json"})
    assert response.status_code == 422


# --- found while documenting ----------------------------------------------------------------------------------


def test_a_nested_object_in_a_patch_is_validated_whole(owner):
    # a partial first_layer used to pass validation and fail later (a 500)
    response = owner.patch(f"{SITE}/rules/california", json={"first_layer": {"links": ["privacy_policy"]}})
    assert response.status_code == 422 and "buttons" in response.json["errors"]["json"]["first_layer"]
    cookie_without_name = {"cookies": [{"duration": "1 year"}]}
    response = owner.patch(f"{SITE}/vendors/google-analytics", json=cookie_without_name)
    assert response.status_code == 422 and "name" in response.json["errors"]["json"]["cookies"]["0"]


def test_a_body_that_is_not_json_is_refused_not_ignored(owner):
    response = owner.patch(
        f"{SITE}/rules/california",
        data="consent_lifetime_days=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert owner.get(f"{SITE}/rules/california").json["consent_lifetime_days"] == 365


def test_a_domain_belongs_to_one_site(app, admin, owner):
    response = admin.post("/api/v1/sites", json={**NEW_SITE, "domains": ["bakery.example", "www.quadient.com"]})
    assert response.status_code == 409
    assert response.json["errors"]["json"] == {"domains": {"1": ["already used by site 'quadient'"]}}
    config = owner.get(f"{SITE}/config").json
    admin.post("/api/v1/sites", json=NEW_SITE)
    config["site"]["domains"].append("bakery.example")
    response = owner.put(f"{SITE}/config", json=config)
    assert response.status_code == 409 and "site" in response.json["errors"]["json"]


def test_default_region_is_always_in_the_sites_state(owner):
    assert owner.get(SITE).json["default_region"] is None


def test_another_sites_key_cannot_tell_which_sites_exist(quadient, owner_of):
    assert owner_of("quadient").get("/api/v1/sites/no-such-site").status_code == 403


@pytest.mark.parametrize(
    "variants, field",
    [
        ({"us": {"privacy_policy_url": "not a url"}}, "privacy_policy_url"),
        ({"us": {"title": "x" * 201}}, "title"),
        ({"us": {"colour": "red"}}, "colour"),
    ],
)
def test_text_variants_follow_the_texts_own_rules(owner, variants, field):
    response = owner.patch(f"{SITE}/texts/en", json={"variants": variants})
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]["variants"]["us"]["value"]


def test_an_empty_text_variant_is_refused(owner):
    assert owner.patch(f"{SITE}/texts/en", json={"variants": {"us": {}}}).status_code == 422

"""The public banner endpoint, as a browser, a CDN and the snippet see it."""

from __future__ import annotations

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from consent.geo import HEADERS

from .conftest import ROOT, load_examples, make_app, production_settings, republish

QUADIENT = "/api/v1/banner/quadient"
QUADIENT_FILE = ROOT / "examples" / "quadient.yaml"


def banner(client, query="", **headers):
    return client.get(f"{QUADIENT}{query}", headers=headers)


def test_the_banner_names_the_version_rule_texts_and_every_cookie(client, quadient):
    body = banner(client, "?region=DE").json
    assert len(body["version"]) == 64
    assert body["rule"]["key"] == "opt-in-regions" and body["rule"]["law"] == "GDPR and ePrivacy Directive"
    assert body["texts"]["title"] == "Your privacy choices"
    analytics = next(c for c in body["categories"] if c["key"] == "analytics")
    assert analytics["default"] is False
    (ga,) = [v for v in analytics["vendors"] if v["key"] == "google-analytics"]
    cookie = ga["cookies"][1]
    assert (cookie["name"], cookie["pattern"], cookie["duration"], cookie["party"]) == (
        "_ga_*",
        True,
        "2 years",
        "first",
    )
    assert ga["privacy_policy_url"] == "https://policies.google.com/privacy"


def test_an_unchanged_banner_is_answered_304(client, quadient):
    first = banner(client, "?region=DE")
    again = banner(client, "?region=DE", **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]


def test_each_header_is_sent_once_and_only_a_body_has_a_type(client, quadient):
    first = banner(client, "?region=DE", Origin="https://www.quadient.com")
    again = banner(client, "?region=DE", **{"If-None-Match": first.headers["ETag"]})
    for response in (first, again):
        names = [name.lower() for name, _ in response.headers]
        assert len(names) == len(set(names)), names
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["Access-Control-Allow-Origin"] == "https://www.quadient.com"
    assert "Content-Type" not in again.headers


def test_each_region_and_language_has_its_own_entity_tag(client, quadient):
    tags = {
        banner(client, "?region=DE").headers["ETag"],
        banner(client, "?region=US-CA").headers["ETag"],
        banner(client, "?region=DE&lang=fr").headers["ETag"],
    }
    assert len(tags) == 3


def test_a_cdn_may_cache_it_varying_only_on_what_it_depends_on(client, quadient):
    response = banner(client, "?region=DE")
    assert response.headers["Cache-Control"].startswith("public, max-age=300")
    assert response.headers["Vary"] == "Origin, Accept-Language"
    assert banner(client, "?region=DE&lang=en").headers["Vary"] == "Origin"


def test_the_language_comes_from_accept_language_then_the_default(client, quadient):
    assert banner(client, "?region=FR", **{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}).json["language"] == "fr"
    response = banner(client, "?region=FR", **{"Accept-Language": "ja"})
    assert response.json["language"] == "en" and response.headers["Content-Language"] == "en"
    assert banner(client, "?region=FR&lang=fr").json["texts"]["reject_all"] == "Tout refuser"


def test_cors_is_granted_to_the_sites_own_domains_only(client, quadient):
    own = banner(client, "?region=DE", Origin="https://www.quadient.com")
    assert own.headers["Access-Control-Allow-Origin"] == "https://www.quadient.com"
    other = banner(client, "?region=DE", Origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("provider", sorted(HEADERS))
def test_a_trusted_cdn_says_where_the_visitor_is(database_url, provider):
    app = make_app(database_url, geo_headers=(provider,))
    load_examples(app, [QUADIENT_FILE])
    country, subdivision = HEADERS[provider]
    response = app.test_client().get(QUADIENT, headers={country: "US", subdivision: "ca"})
    assert response.json["region"] == {"country": "US", "subdivision": "US-CA"}
    assert response.json["rule"]["key"] == "california"
    assert response.headers["X-Region-Source"] == f"header:{provider}"
    assert country in response.headers["Vary"] and subdivision in response.headers["Vary"]
    assert response.headers["Cache-Control"].startswith("public")


def test_an_untrusted_cdn_header_is_ignored(client, quadient):
    response = banner(client, **{"CF-IPCountry": "US", "CF-Region-Code": "CA"})
    assert response.json["region"]["country"] is None  # 127.0.0.1 has no location, and nobody vouched for it
    assert response.json["rule"]["key"] == "rest-of-world"


@pytest.mark.parametrize("pseudo", ["XX", "T1", "ZZ", ""])
def test_cdn_pseudo_countries_fall_through_to_the_ip_database(database_url, pseudo):
    app = make_app(database_url, geo_headers=("cloudflare",))
    load_examples(app, [QUADIENT_FILE])
    response = app.test_client().get(
        QUADIENT, headers={"CF-IPCountry": pseudo}, environ_base={"REMOTE_ADDR": "81.2.69.142"}
    )
    assert response.json["region"]["country"] == "GB"
    assert response.headers["X-Region-Source"] == "ip:iptocc"


def test_a_location_from_the_ip_address_is_private_to_the_browser(client, quadient):
    response = client.get(QUADIENT, environ_base={"REMOTE_ADDR": "8.8.8.8"})
    assert response.json["region"] == {"country": "US", "subdivision": None}
    assert response.headers["X-Region-Source"] == "ip:iptocc"
    assert response.headers["Cache-Control"].startswith("private")


def test_behind_a_trusted_proxy_the_forwarded_address_is_located(database_url):
    app = make_app(database_url, proxy_hops=1)
    load_examples(app, [QUADIENT_FILE])
    response = app.test_client().get(QUADIENT, headers={"X-Forwarded-For": "81.2.69.142"})
    assert response.json["region"]["country"] == "GB" and response.json["rule"]["key"] == "opt-in-regions"


def test_without_proxy_trust_a_forwarded_address_is_not_believed(client, quadient):
    response = client.get(QUADIENT, headers={"X-Forwarded-For": "81.2.69.142"})
    assert response.json["region"]["country"] is None


def test_a_city_database_resolves_us_states(database_url, tmp_path):
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-City")
    writer.insert_network(IPSet(["8.8.8.0/24"]), {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "CA"}]})
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    app = make_app(database_url, geoip=str(path))
    load_examples(app, [QUADIENT_FILE])
    response = app.test_client().get(QUADIENT, environ_base={"REMOTE_ADDR": "8.8.8.8"})
    assert response.json["region"] == {"country": "US", "subdivision": "US-CA"}
    assert response.json["rule"]["key"] == "california"
    assert response.headers["X-Region-Source"] == "ip:mmdb"


def test_the_sites_default_region_applies_when_nothing_else_locates_the_visitor(app, client, quadient, tmp_path):
    republish(
        app,
        tmp_path,
        "quadient",
        lambda text: text.replace("  default_language: en\n", "  default_language: en\n  default_region: BE\n"),
    )
    response = banner(client)
    assert response.json["region"]["country"] == "BE" and response.headers["X-Region-Source"] == "site-default"


def test_bad_query_parameters_are_named(client, quadient):
    response = banner(client, "?region=XX")
    assert response.status_code == 400 and "region" in response.json["errors"]["query"]
    response = banner(client, "?lang=%3Cscript%3E")
    assert response.status_code == 400 and "lang" in response.json["errors"]["query"]


def test_the_region_override_is_refused_in_production(database_url):
    settings = production_settings(database_url)
    from consent import create_app

    app = create_app(settings)
    load_examples(app, [QUADIENT_FILE])
    response = app.test_client().get(f"{QUADIENT}?region=US-CA")
    assert response.status_code == 400
    assert response.json["errors"]["query"]["region"] == ["the region override is disabled"]


def test_a_site_may_allow_the_region_override_in_production(database_url, tmp_path):
    from consent import create_app

    app = create_app(production_settings(database_url))
    load_examples(app, [QUADIENT_FILE])
    republish(
        app,
        tmp_path,
        "quadient",
        lambda text: text.replace("allow_region_override: false", "allow_region_override: true"),
    )
    response = app.test_client().get(f"{QUADIENT}?region=US-CA")
    assert response.status_code == 200 and response.json["rule"]["key"] == "california"


def test_the_landing_page_is_not_served_in_production(database_url):
    from consent import create_app

    app = create_app(production_settings(database_url))
    assert app.test_client().get("/").status_code == 404


def test_an_unknown_or_unpublished_site_is_404(client, quadient):
    assert client.get("/api/v1/banner/nobody").status_code == 404


def test_a_new_publication_is_served_at_once_by_this_process(app, client, quadient, tmp_path):
    before = banner(client, "?region=DE").json["version"]
    republish(
        app,
        tmp_path,
        "quadient",
        lambda text: text.replace("title: Your privacy choices", "title: Your cookie choices"),
    )
    after = banner(client, "?region=DE").json
    assert after["version"] != before and after["texts"]["title"] == "Your cookie choices"


def test_the_operators_explicit_refusal_wins_over_a_sites_permission(database_url, tmp_path):
    app = make_app(database_url, region_override=False)
    load_examples(app, [QUADIENT_FILE])
    republish(
        app, tmp_path, "quadient", lambda t: t.replace("allow_region_override: false", "allow_region_override: true")
    )
    assert app.test_client().get(f"{QUADIENT}?region=US-CA").status_code == 400


def test_unknown_sites_are_remembered_briefly(app, client, quadient, monkeypatch):
    assert client.get("/api/v1/banner/nobody").status_code == 404
    from consent import live

    def no_database(*args, **kwargs):
        raise AssertionError("the database was asked again")

    monkeypatch.setattr(live.db.session, "execute", no_database)
    assert client.get("/api/v1/banner/nobody").status_code == 404

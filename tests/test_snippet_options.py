"""The owner's snippet options (theme, Consent Mode, reload after an opt-out, reopen button): configured in the
site's file or through the owner API, published with the version, served in the banner."""

from __future__ import annotations

import yaml

from consent import create_app

from .conftest import ROOT, load_examples, production_settings, republish

QUADIENT_FILE = ROOT / "examples" / "quadient.yaml"
OPTIONS = """
snippet:
  theme: {position: bottom_left, background: "#101418", text: "#f5f5f5", accent: "#ffd33d", accent_text: "#101418"}
  consent_mode:
    types: {marketing: [ad_storage, ad_user_data]}
    url_passthrough: true
    advanced: true
  reload_on_opt_out: true
  reopen_button: false
"""


def banner(client, query="?region=FR"):
    return client.get(f"/api/v1/banner/quadient{query}").json


def test_the_banner_carries_the_defaults_when_the_owner_chose_nothing(client, quadient):
    served = banner(client)
    assert served["snippet"] == {
        "theme": {
            "position": "bottom",
            "background": "#ffffff",
            "text": "#1f2328",
            "accent": "#1d4ed8",
            "accent_text": "#ffffff",
        },
        "consent_mode": {"enabled": True, "ads_data_redaction": True, "url_passthrough": False, "advanced": False},
        "reload_on_opt_out": False,
        "reopen_button": True,
    }
    types = {c["key"]: c["consent_types"] for c in served["categories"]}
    assert types == {
        "necessary": ["security_storage"],
        "analytics": ["analytics_storage"],
        "marketing": ["ad_storage", "ad_user_data", "ad_personalization"],
    }


def test_options_from_the_file_are_published_served_and_exported(app, client, quadient, tmp_path):
    republish(app, tmp_path, "quadient", lambda text: text + OPTIONS)
    served = banner(client)
    assert served["snippet"]["theme"]["position"] == "bottom_left"
    assert served["snippet"]["consent_mode"]["url_passthrough"] is True
    assert served["snippet"]["reload_on_opt_out"] is True and served["snippet"]["reopen_button"] is False
    assert {c["key"]: c["consent_types"] for c in served["categories"]}["marketing"] == ["ad_storage", "ad_user_data"]

    exported = yaml.safe_load(app.test_cli_runner().invoke(args=["cmp", "export", "quadient"]).output)
    assert exported["snippet"]["theme"]["accent"] == "#ffd33d"
    assert exported["snippet"]["consent_mode"]["types"] == {"marketing": ["ad_storage", "ad_user_data"]}
    path = tmp_path / "again.yaml"
    path.write_text(yaml.safe_dump(exported), encoding="utf-8")
    assert "unchanged" in app.test_cli_runner().invoke(args=["cmp", "load", str(path)]).output


def test_the_owner_api_refuses_an_unreadable_theme_naming_the_field(client, quadient, owner_of):
    owner = owner_of("quadient")
    config = owner.get("/api/v1/sites/quadient/config").json
    config["snippet"]["theme"]["text"] = "#eeeeee"
    response = owner.put("/api/v1/sites/quadient/config", json=config)
    assert response.status_code == 422
    assert "WCAG AA" in response.json["errors"]["json"]["snippet"]["theme"]["text"][0]

    config["snippet"]["theme"]["text"] = "red"
    response = owner.put("/api/v1/sites/quadient/config", json=config)
    assert response.json["errors"]["json"]["snippet"]["theme"]["text"] == ["Use a colour as #rrggbb."]

    config["snippet"]["theme"]["text"] = "#000000"
    config["snippet"]["consent_mode"]["types"] = {"marketing": ["ad_clicks"]}
    response = owner.put("/api/v1/sites/quadient/config", json=config)
    assert response.status_code == 422 and "types" in response.json["errors"]["json"]["snippet"]["consent_mode"]


def test_a_site_created_through_the_api_gets_the_default_options(client, admin):
    site = {"key": "shop", "name": "Shop", "domains": ["shop.example"], "default_language": "en"}
    assert admin.post("/api/v1/sites", json=site).status_code == 201
    config = admin.get("/api/v1/sites/shop/config").json
    assert config["snippet"]["theme"]["position"] == "bottom" and config["snippet"]["reopen_button"] is True


# --- the service's own origin: the demo pages ------------------------------------------------------------------


def test_outside_production_the_services_own_pages_may_call_the_public_api(client, quadient):
    own = client.get("/api/v1/banner/quadient?region=FR", headers={"Origin": "http://localhost"})
    assert own.headers["Access-Control-Allow-Origin"] == "http://localhost"
    public_url = client.get("/api/v1/banner/quadient?region=FR", headers={"Origin": "http://127.0.0.1:5000"})
    assert public_url.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"
    other = client.get("/api/v1/banner/quadient?region=FR", headers={"Origin": "http://127.0.0.1:5001"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_in_production_the_services_own_origin_is_not_a_sites_page(database_url):
    app = create_app(production_settings(database_url, public_url="https://cmp.example"))
    load_examples(app, [QUADIENT_FILE])
    client = app.test_client()
    banner = client.get("/api/v1/banner/quadient", headers={"Origin": "https://cmp.example"})
    assert "Access-Control-Allow-Origin" not in banner.headers
    version = banner.json["version"]
    decision = {
        "version": version,
        "language": "en",
        "choices": {"necessary": True, "analytics": False, "marketing": False},
        "method": "reject_all",
    }
    for origin in ("https://cmp.example", "http://localhost"):
        response = client.post("/api/v1/decisions/quadient", json=decision, headers={"Origin": origin})
        assert response.status_code == 403


def test_sites_that_existed_before_the_options_get_the_defaults(tmp_path):
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from consent.core.siteconfig import SnippetOptions
    from consent.extensions import db
    from consent.models import Site

    from .conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="0002_consent_log")
        db.session.execute(
            text(
                "INSERT INTO sites (key, name, default_language, retention_days, sells_or_shares, "
                "allow_region_override, created_at, updated_at) VALUES ('old', 'Old', 'en', 30, false, false, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        db.session.commit()
        upgrade()
        site = db.session.scalar(select(Site).where(Site.key == "old"))
        assert site.snippet_options() == SnippetOptions()
        db.engine.dispose()

"""Settings come from the environment, with safe local defaults; production refuses unsafe ones."""

import pytest

from consent import create_app
from consent.config import ConfigurationError, Settings

from .conftest import SIGNING_KEY


def test_defaults_run_locally_on_sqlite_without_any_server():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///") and not settings.production
    settings.check()


def test_production_refuses_to_start_with_the_development_secret():
    with pytest.raises(ConfigurationError, match="CMP_SECRET_KEY"):
        create_app(Settings.from_env({"CMP_ENV": "production"}))
    with pytest.raises(ConfigurationError, match="CMP_SECRET_KEY"):
        Settings.from_env({"CMP_ENV": "production", "CMP_SECRET_KEY": "short"}).check()


def test_production_starts_with_a_real_secret_and_a_signing_key():
    Settings.from_env({"CMP_ENV": "production", "CMP_SECRET_KEY": "x" * 48, "CMP_SIGNING_KEY": SIGNING_KEY}).check()


def test_production_refuses_to_start_without_a_signing_key():
    with pytest.raises(ConfigurationError, match="CMP_SIGNING_KEY"):
        Settings.from_env({"CMP_ENV": "production", "CMP_SECRET_KEY": "x" * 48}).check()


def test_environment_variables_are_read():
    settings = Settings.from_env(
        {
            "CMP_DATABASE_URL": "postgresql+psycopg://db/cmp",
            "CMP_PROXY_HOPS": "2",
            "CMP_GEO_HEADERS": "cloudflare, CloudFront",
            "CMP_REGION_OVERRIDE": "off",
            "CMP_BANNER_MAX_AGE": "60",
        }
    )
    assert settings.database_url == "postgresql+psycopg://db/cmp" and settings.proxy_hops == 2
    assert settings.geo_headers == ("cloudflare", "cloudfront")
    assert settings.region_override is False and settings.banner_max_age == 60


@pytest.mark.parametrize(
    "name, value",
    [
        ("CMP_ENV", "staging"),
        ("CMP_PROXY_HOPS", "two"),
        ("CMP_GEO_HEADERS", "akamai"),
        ("CMP_REGION_OVERRIDE", "maybe"),
    ],
)
def test_a_mistyped_setting_is_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})


def test_a_missing_ip_database_file_is_refused():
    with pytest.raises(ConfigurationError, match="CMP_GEOIP"):
        Settings.from_env({"CMP_GEOIP": "/nowhere/city.mmdb"}).check()

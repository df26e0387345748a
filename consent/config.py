"""Settings, read from ``CMP_*`` environment variables, with defaults that are safe on a developer's machine.

In production (``CMP_ENV=production``) the service refuses to start with the development secret, and the
``?region=`` test override is off unless a site allows it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEV_SECRET = "dev-only-insecure-secret"
GEO_PROVIDERS = ("cloudflare", "cloudfront", "fastly", "vercel", "appengine")
IP_STORAGE = ("truncate", "hash", "none")
ENVIRONMENTS = ("development", "production", "testing")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
INSTANCE = Path(os.environ.get("CMP_INSTANCE_PATH", Path.cwd() / "instance"))


class ConfigurationError(RuntimeError):
    """The environment does not describe a service that may start."""


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name}={value!r}: use true or false")


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: use a whole number") from None


def _float(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: use a number of seconds") from None


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    database_url: str = f"sqlite:///{INSTANCE / 'consent.db'}"
    secret_key: str = DEV_SECRET
    proxy_hops: int = 0  # how many reverse proxies' X-Forwarded-* headers to trust
    geo_headers: tuple[str, ...] = ()  # CDNs whose geolocation headers are trusted
    geoip: str = "iptocc"  # "iptocc" (country, ships with the package), a path to an .mmdb file, or "none"
    region_override: bool | None = None  # the ?region= test parameter; None: on except in production
    banner_max_age: int = 300  # seconds a CDN or browser may reuse a banner
    site_cache_seconds: float = 5.0  # how long a process trusts its copy of which version is live
    max_body_bytes: int = 1_000_000
    public_url: str = "http://127.0.0.1:5000"  # where visitors reach the service; names receipts' issuer
    log_name: str = "localhost"  # the signer's name and the prefix of each site log's origin in checkpoints
    signing_key: str | None = None  # path of the Ed25519 PEM key; unset: one is made in the instance folder
    ip_storage: str = "truncate"  # "truncate" (/24, /48), "hash" (keyed HMAC-SHA256) or "none"
    ip_hash_key: str | None = None  # the HMAC key for ip_storage=hash (default: derived from the secret key)
    rate_limit: str = "120 per minute"  # decisions per visitor IP address and site
    redis_url: str | None = None  # shared rate-limit counters for several processes; unset: per process
    checkpoint_seconds: float = 10.0  # how often each process sequences new records and signs a checkpoint
    log_format: str | None = None  # "json" or "text"; None: json in production, text elsewhere
    log_level: str = "INFO"
    trust_request_id: bool = False  # take X-Request-ID from the proxy in front instead of making one
    metrics_token: str | None = None  # when set, /metrics wants "Authorization: Bearer <token>"
    db_timeout: float = 2.0  # seconds to connect to the database or to wait for a pooled connection

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        values: dict[str, Any] = {}
        get = environ.get
        if (env := get("CMP_ENV")) is not None:
            if env not in ENVIRONMENTS:
                raise ConfigurationError(f"CMP_ENV={env!r}: use one of {', '.join(ENVIRONMENTS)}")
            values["env"] = env
        if url := get("CMP_DATABASE_URL"):
            values["database_url"] = url
        if (secret := get("CMP_SECRET_KEY")) is not None:
            values["secret_key"] = secret
        if (hops := get("CMP_PROXY_HOPS")) is not None:
            values["proxy_hops"] = _int(hops, "CMP_PROXY_HOPS")
        if (headers := get("CMP_GEO_HEADERS")) is not None:
            names = tuple(h.strip().lower() for h in headers.split(",") if h.strip())
            unknown = [h for h in names if h not in GEO_PROVIDERS]
            if unknown:
                raise ConfigurationError(
                    f"CMP_GEO_HEADERS: unknown provider {unknown[0]!r}; use {', '.join(GEO_PROVIDERS)}"
                )
            values["geo_headers"] = names
        if (geoip := get("CMP_GEOIP")) is not None:
            values["geoip"] = geoip
        if (override := get("CMP_REGION_OVERRIDE")) is not None:
            values["region_override"] = _bool(override, "CMP_REGION_OVERRIDE")
        if (age := get("CMP_BANNER_MAX_AGE")) is not None:
            values["banner_max_age"] = _int(age, "CMP_BANNER_MAX_AGE")
        if (ttl := get("CMP_SITE_CACHE_SECONDS")) is not None:
            values["site_cache_seconds"] = _float(ttl, "CMP_SITE_CACHE_SECONDS")
        if (limit := get("CMP_MAX_BODY_BYTES")) is not None:
            values["max_body_bytes"] = _int(limit, "CMP_MAX_BODY_BYTES")
        for name, attribute in (
            ("CMP_PUBLIC_URL", "public_url"),
            ("CMP_LOG_NAME", "log_name"),
            ("CMP_SIGNING_KEY", "signing_key"),
            ("CMP_IP_HASH_KEY", "ip_hash_key"),
            ("CMP_RATE_LIMIT", "rate_limit"),
            ("CMP_REDIS_URL", "redis_url"),
        ):
            if value := get(name):
                values[attribute] = value
        if (storage := get("CMP_IP_STORAGE")) is not None:
            if storage not in IP_STORAGE:
                raise ConfigurationError(f"CMP_IP_STORAGE={storage!r}: use one of {', '.join(IP_STORAGE)}")
            values["ip_storage"] = storage
        if (interval := get("CMP_CHECKPOINT_SECONDS")) is not None:
            values["checkpoint_seconds"] = _float(interval, "CMP_CHECKPOINT_SECONDS")
        if (log_format := get("CMP_LOG_FORMAT")) is not None:
            if log_format not in LOG_FORMATS:
                raise ConfigurationError(f"CMP_LOG_FORMAT={log_format!r}: use one of {', '.join(LOG_FORMATS)}")
            values["log_format"] = log_format
        if (level := get("CMP_LOG_LEVEL")) is not None:
            if level.upper() not in LOG_LEVELS:
                raise ConfigurationError(f"CMP_LOG_LEVEL={level!r}: use one of {', '.join(LOG_LEVELS)}")
            values["log_level"] = level.upper()
        if (trust := get("CMP_TRUST_REQUEST_ID")) is not None:
            values["trust_request_id"] = _bool(trust, "CMP_TRUST_REQUEST_ID")
        if token := get("CMP_METRICS_TOKEN"):
            values["metrics_token"] = token
        if (timeout := get("CMP_DB_TIMEOUT")) is not None:
            values["db_timeout"] = _float(timeout, "CMP_DB_TIMEOUT")
        return cls(**values)

    @property
    def production(self) -> bool:
        return self.env == "production"

    def check(self) -> None:
        if self.production and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ConfigurationError(
                "CMP_SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.production and not self.signing_key:
            raise ConfigurationError(
                "CMP_SIGNING_KEY must name the Ed25519 key (PKCS#8 PEM) that signs receipts and checkpoints in "
                "production (create one with: flask --app consent cmp generate-key -o signing-key.pem)"
            )
        if self.signing_key and not Path(self.signing_key).is_file():
            raise ConfigurationError(f"CMP_SIGNING_KEY={self.signing_key!r}: no such file")
        if " " in self.log_name or "+" in self.log_name or not self.log_name:
            raise ConfigurationError(f"CMP_LOG_NAME={self.log_name!r}: a host-like name, without spaces or '+'")
        try:
            from limits import parse_many

            parse_many(self.rate_limit)
        except ValueError:
            raise ConfigurationError(f"CMP_RATE_LIMIT={self.rate_limit!r}: use e.g. '120 per minute'") from None
        if self.geoip not in ("iptocc", "none") and not Path(self.geoip).is_file():
            raise ConfigurationError(f"CMP_GEOIP={self.geoip!r}: not 'iptocc', 'none' or an existing .mmdb file")

    def prepare(self) -> None:
        """Create the folder of a local SQLite database (SQLite creates the file, not its folder)."""
        if self.database_url.startswith("sqlite:///") and self.database_url != "sqlite:///:memory:":
            Path(self.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" if self.log_format else self.production

    def engine_options(self) -> dict[str, Any]:
        """Fail fast when the database is unreachable: answers then say 503 in time instead of hanging."""
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.database_url.startswith("postgresql"):
            options["pool_timeout"] = self.db_timeout
            # libpq waits at least 2 s to connect; the kernel gives up on unacknowledged data after tcp_user_timeout
            options["connect_args"] = {
                "connect_timeout": max(2, round(self.db_timeout)),
                "tcp_user_timeout": int(self.db_timeout * 1000),
            }
        return options

    def flask_config(self) -> dict[str, Any]:
        return {
            "CMP_SETTINGS": self,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": self.engine_options(),
            "MAX_CONTENT_LENGTH": self.max_body_bytes,
            "TESTING": self.env == "testing",
            "API_TITLE": "Consent management platform",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api",
            "OPENAPI_JSON_PATH": "openapi.json",
        }

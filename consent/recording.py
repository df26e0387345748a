"""Recording a visitor's decision: the stored record, its erasable personal data and the signed receipt.

The record, its personal data, the visitor's consent ID (on a first decision) and its place in the sequencer's
queue are written in one transaction: a decision is stored whole or not at all. The receipt is signed before
the write, so what the visitor is handed is exactly what was stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import user_agents
from crawlerdetect import CrawlerDetect
from sqlalchemy import insert

from . import partitions
from .config import Settings
from .core import merkle
from .core import records as rec
from .core.rules import ServedRule
from .core.signing import SigningKey, issue_receipt
from .extensions import db
from .geo import Location
from .models import ConsentSubject, DecisionKey, PendingRecord, PersonalRecordData, Record, utcnow

_crawlers = CrawlerDetect()


@dataclass(frozen=True)
class Device:
    browser: str | None
    os: str | None
    device: str  # desktop, mobile, tablet or other
    bot: bool


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> Device:
    """Browser, OS and device class from a User-Agent; bots by a maintained crawler list as well as by
    user-agents (whose ``is_bot`` misses headless browsers, HTTP libraries and many crawlers)."""
    parsed = user_agents.parse(user_agent)
    bot = parsed.is_bot or _crawlers.isCrawler(user_agent) or not user_agent.strip()
    browser = parsed.browser.family
    major = parsed.browser.version[0] if parsed.browser.version else None
    device = "mobile" if parsed.is_mobile else "tablet" if parsed.is_tablet else "desktop" if parsed.is_pc else "other"
    return Device(
        browser=f"{browser} {major}" if major is not None else browser,
        os=parsed.os.family,
        device=device,
        bot=bool(bot),
    )


def stored_ip(address: str | None, settings: Settings) -> str | None:
    """The visitor's address as the operator chose to keep it: truncated to its /24 (IPv4) or /48 (IPv6)
    network, a keyed HMAC-SHA256, or not at all. Never the raw address."""
    if not address or settings.ip_storage == "none":
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if settings.ip_storage == "hash":
        key = (settings.ip_hash_key or f"ip-hash:{settings.secret_key}").encode()
        return "hmac-sha256:" + hmac.new(key, ip.packed, hashlib.sha256).hexdigest()
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def page_without_query(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Decision:
    """A validated decision, as the visitor's browser described it."""

    version: str
    language: str
    choices: dict[str, bool]
    method: rec.Method
    signals: rec.Signals
    layer: int | None = None
    control: str | None = None
    page_url: str | None = None


@dataclass(frozen=True)
class Recorded:
    value: rec.ConsentRecord
    record_hash: str
    receipt: str
    secret: str | None  # the visitor's secret, on their first decision only


def new_subject(site_id: int, secret_key: str) -> tuple[str, str]:
    """A fresh consent ID and the secret that proves it, whose digest only is stored."""
    consent_id = secrets.token_urlsafe(16)
    secret = subject_secret(consent_id, secret_key)
    db.session.execute(
        insert(ConsentSubject.__table__),
        {"consent_id": consent_id, "site_id": site_id, "secret_hash": secret_digest(secret), "created_at": utcnow()},
    )
    return consent_id, secret


def subject_secret(consent_id: str, secret_key: str) -> str:
    """The secret of a consent ID: derived with the service's secret key rather than drawn at random, so that the
    answer to a first decision can be given again, secret included, when the browser retries it (see DecisionKey).
    Only its digest is stored."""
    mac = hmac.new(secret_key.encode(), b"consent-id-secret\x00" + consent_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_digest(decision_key: str) -> str:
    return hashlib.sha256(b"decision-key\x00" + decision_key.encode()).hexdigest()


def record_decision(
    *,
    site_id: int,
    site_key: str,
    consent_id: str,
    decision: Decision,
    rule: ServedRule,
    location: Location,
    device: Device | None,
    ip: str | None,
    key: SigningKey,
    issuer: str,
    secret: str | None = None,
    decision_key: str | None = None,
) -> Recorded:
    personal = rec.PersonalData(
        salt=secrets.token_hex(16),
        ip=ip,
        browser=device.browser if device else None,
        os=device.os if device else None,
        device=device.device if device else None,
        page_url=page_without_query(decision.page_url),
    )
    value = rec.ConsentRecord(
        record_id=str(uuid.uuid4()),
        site=site_key,
        consent_id=consent_id,
        time=utcnow(),
        version=decision.version,
        language=decision.language,
        choices=dict(decision.choices),
        method=decision.method,
        region={
            "country": location.region.country,
            "subdivision": location.region.subdivision,
            "source": location.source,
        },
        rule={"key": rule.key, "law": rule.law, "model": str(rule.model)},
        personal_digest=personal.digest(),
        signals=decision.signals,
        layer=decision.layer,
        control=decision.control,
    )
    canonical = value.canonical()
    record_hash = merkle.leaf_hash(canonical).hex()
    receipt = issue_receipt(value, record_hash, key, issuer)
    # Core inserts, not the ORM's unit of work: this runs for every decision of every site.
    record_pk = partitions.record_key(value.time)
    db.session.execute(
        insert(Record.__table__),
        {
            "id": record_pk,
            "record_id": value.record_id,
            "site_id": site_id,
            "consent_id": value.consent_id,
            "time": value.time,
            "document": canonical.decode(),
            "receipt": receipt,
        },
    )
    db.session.execute(
        insert(PersonalRecordData.__table__),
        {"record_pk": record_pk, "salt": personal.salt, "data": personal.canonical().decode()},
    )
    db.session.execute(
        insert(PendingRecord.__table__), {"record_pk": record_pk, "site_id": site_id, "leaf_hash": record_hash}
    )
    if decision_key is not None:
        db.session.execute(
            insert(DecisionKey.__table__),
            {"key_hash": key_digest(decision_key), "site_id": site_id, "record_pk": record_pk, "created_at": utcnow()},
        )
    return Recorded(value=value, record_hash=record_hash, receipt=receipt, secret=secret)

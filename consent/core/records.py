"""Consent records: what a visitor decided, and the canonical form whose hash goes into the site's log.

A record is a fact about a decision: who (a pseudonymous consent ID), when (the server's clock), what was shown
(the published version's hash, the language, the regional rule applied and the law behind it), what was chosen
(every category) and how (the method, the layer and control, the browser's privacy signals).

Personal data about the visitor's device and page (truncated or keyed-hash IP address, browser, OS, device
class, page URL) is kept apart and enters the record only as a salted digest, so that erasing it (GDPR Art. 17)
leaves every record, and therefore the log, verifiable.

The canonical form is RFC 8785 JSON (JCS). For the values a record holds (strings, integers, booleans, null and
objects with ASCII keys) that is exactly Python's ``json.dumps`` with sorted keys, compact separators and no ASCII
escaping, which is what :func:`canonical_json` uses; a test checks the two agree. The canonical bytes are computed
once, when the decision is recorded, and stored verbatim: they are the evidence, and verifying a record is hashing
them again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from . import merkle

FORMAT = 1


class Method(StrEnum):
    """How a decision was made."""

    ACCEPT_ALL = "accept_all"
    REJECT_ALL = "reject_all"
    CUSTOM = "custom"  # saved from the preference center, category by category
    WITHDRAWAL = "withdrawal"  # a consent given earlier is taken back
    GPC = "gpc"  # opted out by the browser's Global Privacy Control signal
    DNT = "dnt"  # a Do Not Track signal the rule honours
    IMPLIED = "implied"  # continued browsing, only where the rule allows implied consent
    RENEWAL = "renewal"  # the same choice confirmed after the previous one expired


@dataclass(frozen=True)
class Signals:
    """The privacy signals the browser sent with the decision."""

    sec_gpc: bool = False  # the Sec-GPC: 1 request header
    gpc: bool = False  # navigator.globalPrivacyControl
    dnt: bool = False  # DNT: 1 or navigator.doNotTrack == "1"


@dataclass(frozen=True)
class PersonalData:
    """What the log keeps about the visitor's device and page, erasable without breaking verification."""

    salt: str  # 16 random bytes, hex: the digest cannot be confirmed by guessing an IP address
    ip: str | None = None  # truncated ("203.0.113.0/24") or keyed hash ("hmac-sha256:..."), never raw by default
    browser: str | None = None
    os: str | None = None
    device: str | None = None  # "desktop", "mobile", "tablet" or "other"
    page_url: str | None = None  # without query string and fragment

    def canonical(self) -> bytes:
        """What is stored, and what the digest covers after the salt."""
        fields = {"browser": self.browser, "device": self.device, "ip": self.ip, "os": self.os, "url": self.page_url}
        return canonical_json(fields)

    def digest(self) -> str:
        return personal_digest(self.salt, self.canonical())

    @classmethod
    def stored(cls, salt: str, data: str) -> PersonalData:
        fields = json.loads(data)
        return cls(salt, fields["ip"], fields["browser"], fields["os"], fields["device"], fields["url"])


def personal_digest(salt: str, canonical: bytes) -> str:
    """``hex(SHA-256(salt || canonical personal data))``: what a record holds in place of its personal data."""
    return hashlib.sha256(bytes.fromhex(salt) + canonical).hexdigest()


@dataclass(frozen=True)
class ConsentRecord:
    record_id: str
    site: str
    consent_id: str
    time: datetime
    version: str
    language: str
    choices: dict[str, bool]
    method: Method
    region: dict[str, str | None]  # country, subdivision, source
    rule: dict[str, str]  # key, law, model: the rule as served in that region
    personal_digest: str
    signals: Signals = field(default_factory=Signals)
    layer: int | None = None
    control: str | None = None

    def document(self) -> dict:
        """The record as hashed: the format auditors read (docs/auditors.md)."""
        return {
            "format": FORMAT,
            "record": self.record_id,
            "site": self.site,
            "consent": self.consent_id,
            "time": format_time(self.time),
            "version": self.version,
            "language": self.language,
            "choices": dict(self.choices),
            "method": str(self.method),
            "layer": self.layer,
            "control": self.control,
            "region": dict(self.region),
            "rule": dict(self.rule),
            "signals": {"dnt": self.signals.dnt, "gpc": self.signals.gpc, "sec_gpc": self.signals.sec_gpc},
            "personal": self.personal_digest,
        }

    def canonical(self) -> bytes:
        return canonical_json(self.document())

    def leaf(self) -> bytes:
        """The record's leaf hash in the site's Merkle tree."""
        return merkle.leaf_hash(self.canonical())


def personal_digest_in(canonical: str) -> str | None:
    """The personal-data digest a record's canonical form holds, read without parsing it: keys are unique and
    quotes inside strings are escaped, so ``"personal":"`` occurs once, as the top-level key."""
    at = canonical.find('"personal":"')
    return None if at < 0 else canonical[at + 12 : at + 76]


def record_id_in(canonical: str) -> str:
    at = canonical.index('"record":"') + 10
    return canonical[at : canonical.index('"', at)]


def canonical_json(value) -> bytes:
    """RFC 8785 for the values records hold (see the module's docstring)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits: ``2026-11-22T09:15:02.123456Z``."""
    if moment.tzinfo is None:
        raise ValueError("record times are timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

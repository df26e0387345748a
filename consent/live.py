"""What each site serves right now, kept in memory so that answering a visitor rarely touches the database.

Published versions never change, so a parsed version (and every banner resolved from it) is cached for as long
as it is live. The only mutable fact, which version is live, is re-read at most every ``site_cache_seconds``;
a publication therefore reaches every process within that time. If the database cannot be reached, the last
known live version keeps being served and is marked stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .availability import DatabaseGate
from .core import banner
from .core.canonical import canonical_bytes
from .core.siteconfig import SiteConfig
from .extensions import db
from .geo import Location
from .models import Publication, PublishedVersion, Site
from .publishing import config_of


@dataclass(frozen=True)
class ServedBanner:
    body: bytes  # the resolved banner, JSON
    etag: str  # unquoted
    headers: tuple[tuple[str, str], ...]  # what every answer with this body and these cache rules carries


@dataclass
class LiveSite:
    key: str
    version: str  # hash of the live version
    config: SiteConfig
    checked_at: float
    max_age: int = 300
    stale: bool = False
    banners: dict[tuple, ServedBanner] = field(default_factory=dict)

    def banner(self, location: Location, language: str, *, by_accept_language: bool) -> ServedBanner:
        """The banner for a visitor's location and language, with its headers: built once per process."""
        cache_key = (location.region, location.source, location.vary, location.by_ip, language, by_accept_language)
        cached = self.banners.get(cache_key)
        if cached is None:
            body = canonical_bytes(banner.resolve(self.config, self.version, location.region, language))
            etag = f"{self.version[:16]}-{_short_hash(body)}"
            vary = ["Origin", *location.vary] + (["Accept-Language"] if by_accept_language else [])
            cache = "private" if location.by_ip else "public"
            headers = (
                ("ETag", f'"{etag}"'),
                ("Cache-Control", f"{cache}, max-age={self.max_age}, stale-if-error=86400"),
                ("Vary", ", ".join(vary)),
                ("Content-Language", language),
                ("X-Region-Source", location.source),
            )
            cached = ServedBanner(body, etag, headers)
            if len(self.banners) > 4096:
                self.banners.clear()
            self.banners[cache_key] = cached
        return cached


class LiveSites:
    def __init__(self, ttl: float, max_age: int = 300, database: DatabaseGate | None = None):
        self.ttl = ttl
        self.database = database or DatabaseGate()
        self.max_age = max_age  # seconds a CDN or browser may reuse a banner
        self._sites: dict[str, LiveSite] = {}
        self._absent: dict[str, float] = {}  # keys with no live version, and when that was checked
        self._lock = threading.Lock()

    def get(self, key: str) -> LiveSite | None:
        """The site's live version, or None if the site does not exist or has never been published."""
        now = time.monotonic()
        entry = self._sites.get(key)
        if entry is not None and now - entry.checked_at < self.ttl:
            return entry
        if entry is None and now - self._absent.get(key, -self.ttl) < self.ttl:
            return None  # asked again for an unknown site: do not query the database for every such request
        if entry is not None and not self.database.open:
            entry.stale = True  # the database failed a moment ago: serve what we have without waiting on it
            return entry
        try:
            live = db.session.execute(
                select(PublishedVersion.id, PublishedVersion.hash)
                .join(Publication, Publication.version_id == PublishedVersion.id)
                .join(Site, Site.id == Publication.site_id)
                .where(Site.key == key)
                .order_by(Publication.id.desc())
                .limit(1)
            ).first()
            if live is None:
                with self._lock:
                    self._sites.pop(key, None)
                    if len(self._absent) > 10_000:
                        self._absent.clear()
                    self._absent[key] = now
                return None
            if entry is None or entry.version != live.hash:
                text = db.session.scalar(select(PublishedVersion.document).where(PublishedVersion.id == live.id))
                entry = LiveSite(key, live.hash, config_of(text), checked_at=now, max_age=self.max_age)
            else:
                entry.checked_at, entry.stale = now, False
        except SQLAlchemyError:
            self.database.failed()
            with contextlib.suppress(SQLAlchemyError):  # the connection is gone
                db.session.rollback()
            if entry is None:
                raise
            entry.stale = True  # serve what we had: a published version is still a valid answer
            return entry
        with self._lock:
            self._sites[key] = entry
        return entry

    def forget(self, key: str) -> None:
        self._sites.pop(key, None)
        self._absent.pop(key, None)


def _short_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]

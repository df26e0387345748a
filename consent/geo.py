"""Locating a visitor: a trusted CDN's geolocation headers, else an offline IP database, else the site's default.

Only the CDNs an operator names in ``CMP_GEO_HEADERS`` are believed: anyone can send ``CF-IPCountry``. The IP
database that ships with the package (iptocc, built from the regional internet registries' delegation files)
resolves countries only; an operator who needs US states without a CDN points ``CMP_GEOIP`` at a city-level
MaxMind-format (.mmdb) file, such as GeoLite2-City or DB-IP City Lite.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import iptocc
import maxminddb

from .core import regions
from .core.regions import Region

# Country header, subdivision header. Subdivision values are the part after the country ("CA" for US-CA).
HEADERS: dict[str, tuple[str, str]] = {
    "cloudflare": ("CF-IPCountry", "CF-Region-Code"),
    "cloudfront": ("CloudFront-Viewer-Country", "CloudFront-Viewer-Country-Region"),
    "fastly": ("Fastly-Geo-Country-Code", "Fastly-Geo-Region"),  # set in VCL, see docs/operators.md
    "vercel": ("X-Vercel-IP-Country", "X-Vercel-IP-Country-Region"),
    "appengine": ("X-AppEngine-Country", "X-AppEngine-Region"),
}
NOT_A_COUNTRY = frozenset({"", "XX", "ZZ", "T1", "A1", "A2", "O1", "EU", "AP", "--"})


@dataclass(frozen=True)
class Location:
    region: Region
    source: str  # "override", "header:<cdn>", "ip:iptocc", "ip:mmdb", "site-default" or "unknown"
    vary: tuple[str, ...] = ()  # request headers the answer depended on
    by_ip: bool = False  # depended on the client's address: no shared cache may reuse the answer


class Locator:
    def __init__(self, trusted: tuple[str, ...], geoip: str):
        self.headers = tuple(HEADERS[name] for name in trusted)
        self.vary = tuple(h for pair in self.headers for h in pair)
        self.trusted = trusted
        self.ip_source = "none" if geoip == "none" else "iptocc" if geoip == "iptocc" else "mmdb"
        self._reader = maxminddb.open_database(geoip) if self.ip_source == "mmdb" else None

    def locate(
        self,
        headers: Mapping[str, str],
        remote_addr: str | None,
        override: Region | None = None,
        site_default: str | None = None,
    ) -> Location:
        if override is not None:
            return Location(override, "override")
        for name, (country_header, region_header) in zip(self.trusted, self.headers, strict=True):
            region = from_codes(headers.get(country_header), headers.get(region_header))
            if region is not None:
                return Location(region, f"header:{name}", vary=self.vary)
        if remote_addr and self.ip_source != "none":
            region = self._by_ip(remote_addr)
            if region is not None:
                return Location(region, f"ip:{self.ip_source}", vary=self.vary, by_ip=True)
        if site_default:
            return Location(Region.parse(site_default), "site-default", vary=self.vary, by_ip=self.ip_source != "none")
        return Location(Region(None), "unknown", vary=self.vary, by_ip=self.ip_source != "none")

    def _by_ip(self, address: str) -> Region | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        if not ip.is_global:
            return None
        if self._reader is None:
            return from_codes(_iptocc(str(ip)), None)
        record = self._reader.get(str(ip))
        if not isinstance(record, dict):
            return None
        country = (record.get("country") or {}).get("iso_code")
        subdivisions = record.get("subdivisions") or [{}]
        return from_codes(country, subdivisions[0].get("iso_code"))


@lru_cache(maxsize=65536)
def _iptocc(address: str) -> str | None:
    return iptocc.country_code(address)


def from_codes(country: str | None, subdivision: str | None) -> Region | None:
    """A region from a country code and an optional subdivision part (``"CA"`` or ``"US-CA"``); None when the
    country is missing or one of the pseudo-codes CDNs use for unknown, Tor or anonymous proxies."""
    if country is None:
        return None
    country = country.strip().upper()
    if country in NOT_A_COUNTRY or not regions.is_country(country):
        return None
    if subdivision:
        part = subdivision.strip().upper()
        code = part if part.startswith(country + "-") else f"{country}-{part}"
        if regions.is_subdivision(code):
            return Region(country, code)
    return Region(country)

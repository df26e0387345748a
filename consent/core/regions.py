"""Regions: ISO 3166 codes, the named groups owners may use, and how specifically an entry matches a visitor.

A regional rule lists region entries: a country (``FR``), a subdivision (``US-CA``), a named group (``EEA``)
or ``*`` for everywhere. A visitor is located as a :class:`Region` (a country and, where known, a
subdivision). When several rules could apply, the one whose entry names the visitor most specifically wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pycountry

EVERYWHERE = "*"

EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
EEA = EU | {"IS", "LI", "NO"}

# US states with a comprehensive consumer privacy law giving an opt-out of sale, sharing or targeted advertising.
# Where a universal opt-out mechanism (Global Privacy Control) is legally binding; see research/standards.md 4.2.
US_GPC_STATES = frozenset(f"US-{s}" for s in ["CA", "CO", "CT", "DE", "MD", "MN", "MT", "NE", "NH", "NJ", "OR", "TX"])
US_PRIVACY_STATES = US_GPC_STATES | {f"US-{s}" for s in ["IA", "IN", "KY", "NV", "RI", "TN", "UT", "VA"]}

GROUPS: dict[str, frozenset[str]] = {
    "EU": EU,
    "EEA": EEA,
    "UK": frozenset({"GB"}),
    "US-PRIVACY-STATES": US_PRIVACY_STATES,
    "US-GPC-STATES": US_GPC_STATES,
}

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


@dataclass(frozen=True, slots=True)
class Region:
    """Where a visitor is: an ISO 3166-1 country and, where known, an ISO 3166-2 subdivision (``US-CA``)."""

    country: str | None
    subdivision: str | None = None

    @classmethod
    def parse(cls, code: str) -> Region:
        """``"US-CA"`` -> Region("US", "US-CA"); ``"FR"`` -> Region("FR"). Raises ValueError if not a known code."""
        code = code.strip().upper()
        if is_subdivision(code):
            return cls(code[:2], code)
        if is_country(code):
            return cls(code)
        raise ValueError(f"{code!r} is not an ISO 3166-1 country or ISO 3166-2 subdivision code")

    @property
    def code(self) -> str | None:
        return self.subdivision or self.country

    def __str__(self) -> str:
        return self.code or "unknown"


@lru_cache(maxsize=4096)
def is_country(code: str) -> bool:
    return bool(_COUNTRY.match(code)) and pycountry.countries.get(alpha_2=code) is not None


@lru_cache(maxsize=4096)
def is_subdivision(code: str) -> bool:
    return bool(_SUBDIVISION.match(code)) and pycountry.subdivisions.get(code=code) is not None


def validate_entry(entry: str) -> str | None:
    """None if ``entry`` may appear in a rule's region list, else the reason it may not."""
    if entry == EVERYWHERE or entry in GROUPS:
        return None
    if is_country(entry) or is_subdivision(entry):
        return None
    if entry != entry.upper():
        return f"{entry!r}: region codes are upper case, as in ISO 3166 ({entry.upper()!r})"
    return (
        f"{entry!r} is neither an ISO 3166-1 country, an ISO 3166-2 subdivision, "
        f"a named group ({', '.join(sorted(GROUPS))}) nor '*'"
    )


def members(entry: str) -> frozenset[str]:
    """The concrete codes an entry stands for (a group's members, or the code itself)."""
    return GROUPS.get(entry, frozenset({entry}))


# How specifically an entry names a region; higher wins. A group listing the visitor's state is more specific
# than the bare country, which is more specific than a group listing the country.
SUBDIVISION_EXACT = 4
SUBDIVISION_IN_GROUP = 3
COUNTRY_EXACT = 2
COUNTRY_IN_GROUP = 1
ANYWHERE = 0


def specificity(entry: str, region: Region) -> int | None:
    """How specifically ``entry`` matches ``region``, or None when it does not match at all."""
    if entry == EVERYWHERE:
        return ANYWHERE
    if region.subdivision is not None:
        if entry == region.subdivision:
            return SUBDIVISION_EXACT
        if region.subdivision in GROUPS.get(entry, ()):
            return SUBDIVISION_IN_GROUP
    if region.country is not None:
        if entry == region.country:
            return COUNTRY_EXACT
        if region.country in GROUPS.get(entry, ()):
            return COUNTRY_IN_GROUP
    return None


def describe(codes: set[str] | frozenset[str]) -> list[str]:
    """Name a set of concrete codes compactly: whole named groups by their name, the rest one by one."""
    remaining = set(codes)
    names = []
    for name, group in sorted(GROUPS.items(), key=lambda item: -len(item[1])):
        if len(group) > 1 and group <= remaining:
            names.append(name)
            remaining -= group
    return names + sorted(remaining)

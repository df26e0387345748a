"""Exports of a site's consent log: which records a filter selects, and how each is written as CSV and as NDJSON.

Both formats are produced one record at a time, so an export of any size streams in constant memory.

- **NDJSON** is the format to check: each line embeds the record's canonical form exactly as it was hashed into the
  log (copied, never re-serialized), last on the line, with its log position, its record hash and its personal
  data. An auditor re-hashes it (docs/auditors.md).
- **CSV** is the format to read: one row per record, one column per category, for spreadsheet programs. It is a
  view of the records, not evidence: cells a spreadsheet would run as a formula get a leading apostrophe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .records import Method

GRANTED, REFUSED = "granted", "refused"
CATEGORY_STATES = {GRANTED: True, REFUSED: False}


@dataclass(frozen=True)
class ExportFilter:
    """Which records of a site an export holds. Time and consent ID select rows in the database (indexed columns);
    region, method and category states are read from each record (:meth:`matches`)."""

    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    consent_id: str | None = None
    regions: tuple[str, ...] = ()  # "FR" (the country, any subdivision) or "US-CA"; any of them
    methods: tuple[str, ...] = ()  # any of them
    categories: tuple[tuple[str, bool], ...] = ()  # (category, granted): all of them

    @property
    def reads_records(self) -> bool:
        """Whether records must be parsed to apply the filter."""
        return bool(self.regions or self.methods or self.categories)

    def matches(self, record: dict) -> bool:
        if self.methods and record["method"] not in self.methods:
            return False
        if self.regions:
            region = record["region"]
            if region["country"] not in self.regions and region["subdivision"] not in self.regions:
                return False
        choices = record["choices"]
        return all(choices.get(category) is granted for category, granted in self.categories)


def parse_category_state(text: str) -> tuple[str, bool]:
    """``analytics=granted`` (or ``analytics:granted``) -> ("analytics", True). Raises ValueError."""
    for separator in ("=", ":"):
        category, found, state = text.partition(separator)
        if found:
            break
    else:
        raise ValueError(f"{text!r}: write a category and its state, e.g. 'analytics=granted'")
    if state not in CATEGORY_STATES:
        raise ValueError(f"{text!r}: the state is 'granted' or 'refused'")
    if not category:
        raise ValueError(f"{text!r}: name the category")
    return category, CATEGORY_STATES[state]


METHODS = tuple(method.value for method in Method)


def category_columns(versions: Iterable[Iterable[str]]) -> list[str]:
    """The categories of every version an export may meet, newest version first: the newest version's categories
    in its order, then those only older versions had, as they come. The same versions give the same columns."""
    columns: list[str] = []
    seen: set[str] = set()
    for categories in versions:
        for category in categories:
            if category not in seen:
                seen.add(category)
                columns.append(category)
    return columns


# --- CSV (RFC 4180) --------------------------------------------------------------------------------------------

RECORD_COLUMNS = (
    "log_position",
    "record_id",
    "consent_id",
    "time",
    "region_country",
    "region_subdivision",
    "region_source",
    "rule",
    "law",
    "consent_model",
    "method",
    "layer",
    "control",
    "sec_gpc",
    "gpc",
    "dnt",
    "version",
    "language",
)
PERSONAL_COLUMNS = ("personal_data", "browser", "os", "device", "ip", "page_url")
CATEGORY_PREFIX = "choice:"
BOM = "\ufeff"  # Excel reads a CSV file as UTF-8 only when it starts with this; other programs skip it
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_IF = ('"', ",", "\n", "\r")


def cell(value: str) -> str:
    """One CSV field: a leading apostrophe if a spreadsheet would read it as a formula (OWASP's advice against
    CSV injection), then RFC 4180 quoting where the field holds a quote, a comma or a line break."""
    if value.startswith(_FORMULA_STARTS):
        value = "'" + value
    for special in _QUOTED_IF:
        if special in value:
            return '"' + value.replace('"', '""') + '"'
    return value


_FORMULA_AFTER_COMMA = re.compile(r",[-=+@\t]")  # a literal first: the fastest search Python's re makes


def _plain(line: str) -> bool:
    """Whether a row joined by commas has no cell to quote or to defuse (its commas counted apart)."""
    return not (
        _FORMULA_AFTER_COMMA.search(line)
        or '"' in line
        or "\n" in line
        or "\r" in line
        or line.startswith(_FORMULA_STARTS)
    )


_STATES = {True: GRANTED, False: REFUSED}
_BOOLEANS = {True: "true", False: "false"}


class CsvLayout:
    """The columns of one CSV export, and how a record fills them."""

    def __init__(self, categories: list[str], personal: bool):
        self.categories = list(categories)
        self.personal = personal
        self._separators = len(RECORD_COLUMNS) - 2 + len(self.categories) + (len(PERSONAL_COLUMNS) if personal else 0)

    def header(self) -> str:
        names = [*RECORD_COLUMNS, *(CATEGORY_PREFIX + c for c in self.categories)]
        if self.personal:
            names += PERSONAL_COLUMNS
        return ",".join(cell(name) for name in [*names, "record_hash"]) + "\r\n"

    def row(self, position: int | None, record_hash: str, record: dict, personal: dict | None) -> str:
        """The record's row. Most rows need no quoting and no defusing, which one search of the joined row tells;
        the others are joined again cell by cell."""
        region, rule, signals, choices = record["region"], record["rule"], record["signals"], record["choices"]
        layer = record["layer"]
        values = [
            record["record"],
            record["consent"],
            record["time"],
            region["country"] or "",
            region["subdivision"] or "",
            region["source"] or "",
            rule["key"],
            rule["law"],
            rule["model"],
            record["method"],
            "" if layer is None else str(layer),
            record["control"] or "",
            _BOOLEANS[signals["sec_gpc"]],
            _BOOLEANS[signals["gpc"]],
            _BOOLEANS[signals["dnt"]],
            record["version"],
            record["language"],
        ]
        values += [_STATES.get(choices.get(category), "") for category in self.categories]
        if self.personal:
            if personal is None:
                values += ("erased", "", "", "", "", "")
            else:
                values += (
                    "kept",
                    personal["browser"] or "",
                    personal["os"] or "",
                    personal["device"] or "",
                    personal["ip"] or "",
                    personal["url"] or "",
                )
        line = ",".join(values)
        if line.count(",") != self._separators or not _plain(line):
            line = ",".join(map(cell, values))
        return f"{'' if position is None else position},{line},{record_hash}\r\n"


# --- NDJSON ----------------------------------------------------------------------------------------------------


def ndjson_line(
    position: int | None,
    record_hash: str,
    canonical: str,
    salt: str | None = None,
    personal: str | None = None,
    *,
    with_personal: bool = True,
) -> str:
    """One line: ``{"position":…,"record_hash":…,"personal":…,"record":<canonical form>}``. The stored canonical
    form is copied as it is, last, so that it can also be cut out of the line byte for byte. ``personal`` is the
    stored canonical personal data with its salt, null once erased; absent when the export leaves it out."""
    head = f'{{"position":{"null" if position is None else position},"record_hash":"{record_hash}",'
    if with_personal:
        if personal is None:
            head += '"personal":null,'
        else:
            head += f'"personal":{{"salt":"{salt}","data":{personal}}},'
    return f'{head}"record":{canonical}}}\n'

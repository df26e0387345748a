"""The consent-rate report: how a site's banner was answered, counted by day, region, published version and category.

Two sources, both counts and nothing else: banner impressions, which the service counts per site, day, version and
region without any identifier (:mod:`consent.reporting`), and the consent records of the period, each counted by
its method. "No action" is not recorded anywhere: it is estimated as the impressions that got no answer, that is
impressions minus the decisions a visitor makes on a banner (accept all, reject all, a custom choice). It is an
approximation: a visitor who ignores the banner on three pages is three impressions, and decisions made without a
banner on screen (Global Privacy Control, Do Not Track, a withdrawal from the preference link) are not answers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from .records import Method

METHODS = tuple(method.value for method in Method)
ANSWERS = (Method.ACCEPT_ALL.value, Method.REJECT_ALL.value, Method.CUSTOM.value)  # what a banner shown gets
UNKNOWN_REGION = "unknown"


@dataclass
class Outcomes:
    """Impressions and decisions of one slice of the period."""

    impressions: int = 0
    methods: dict[str, int] = field(default_factory=lambda: dict.fromkeys(METHODS, 0))

    @property
    def decisions(self) -> int:
        return sum(self.methods.values())

    @property
    def answers(self) -> int:
        return sum(self.methods[method] for method in ANSWERS)

    @property
    def no_action(self) -> int:
        return max(0, self.impressions - self.answers)

    def as_dict(self) -> dict[str, int]:
        return {
            "impressions": self.impressions,
            "decisions": self.decisions,
            **self.methods,
            "no_action": self.no_action,
        }


@dataclass
class CategoryRate:
    granted: int = 0
    refused: int = 0

    @property
    def rate(self) -> float | None:
        total = self.granted + self.refused
        return round(self.granted / total, 4) if total else None


def region_key(country: str | None, subdivision: str | None) -> str:
    """A record's or an impression's region as the report groups them: the subdivision where known (``US-CA``)."""
    return subdivision or country or UNKNOWN_REGION


@dataclass
class Tally:
    """Counts accumulated record by record and impression row by impression row, in constant memory per slice."""

    totals: Outcomes = field(default_factory=Outcomes)
    days: dict[str, Outcomes] = field(default_factory=dict)
    regions: dict[str, Outcomes] = field(default_factory=dict)
    versions: dict[str, Outcomes] = field(default_factory=dict)
    categories: dict[str, CategoryRate] = field(default_factory=dict)

    def _slices(self, day: str, region: str, version: str) -> tuple[Outcomes, ...]:
        return (
            self.totals,
            self.days.get(day) or self.days.setdefault(day, Outcomes()),
            self.regions.get(region) or self.regions.setdefault(region, Outcomes()),
            self.versions.get(version) or self.versions.setdefault(version, Outcomes()),
        )

    def add_record(self, record: dict) -> None:
        """A consent record (its document): one decision of its method, and its choice of every category."""
        region = record["region"]
        method = record["method"]
        for outcome in self._slices(
            record["time"][:10], region_key(region["country"], region["subdivision"]), record["version"]
        ):
            outcome.methods[method] = outcome.methods.get(method, 0) + 1
        categories = self.categories
        for category, granted in record["choices"].items():
            rate = categories.get(category) or categories.setdefault(category, CategoryRate())
            if granted:
                rate.granted += 1
            else:
                rate.refused += 1

    def add_impressions(self, day: str, region: str, version: str, count: int) -> None:
        for outcome in self._slices(day, region, version):
            outcome.impressions += count


@dataclass(frozen=True)
class Report:
    site: str
    since: str  # RFC 3339, inclusive
    until: str  # exclusive
    tally: Tally
    version_numbers: dict[str, int]  # version hash -> its number on the site
    category_order: list[str]  # the site's categories, newest version's order first
    days: tuple[str, ...] = ()  # every day of the period (YYYY-MM-DD), so that a day without any count shows

    def as_dict(self) -> dict:
        tally = self.tally
        days = sorted({*self.days, *tally.days})
        regions = sorted(tally.regions, key=lambda r: (-tally.regions[r].impressions, -tally.regions[r].decisions, r))
        versions = sorted(tally.versions, key=lambda v: (-self.version_numbers.get(v, 0), v))
        order = {key: i for i, key in enumerate(self.category_order)}
        categories = sorted(tally.categories, key=lambda c: (order.get(c, len(order)), c))
        return {
            "site": self.site,
            "since": self.since,
            "until": self.until,
            "totals": tally.totals.as_dict(),
            "by_day": [{"key": day, **tally.days.get(day, Outcomes()).as_dict()} for day in days],
            "by_region": [{"key": region, **tally.regions[region].as_dict()} for region in regions],
            "by_version": [
                {"key": version, "number": self.version_numbers.get(version), **tally.versions[version].as_dict()}
                for version in versions
            ],
            "by_category": [
                {
                    "key": category,
                    "granted": tally.categories[category].granted,
                    "refused": tally.categories[category].refused,
                    "granted_rate": tally.categories[category].rate,
                }
                for category in categories
            ],
        }


OUTCOME_COLUMNS = ("impressions", "decisions", *METHODS, "no_action")
CSV_COLUMNS = ("dimension", "key", *OUTCOME_COLUMNS, "granted", "refused", "granted_rate")


def report_csv(report: dict) -> str:
    """The report as one CSV table (RFC 4180, with a BOM for spreadsheets): a row for the whole period, then one per
    day, region, version (its hash) and category; a category's row fills only the last three columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def outcome_row(dimension: str, key: str, outcomes: dict) -> list:
        return [dimension, key, *(outcomes[column] for column in OUTCOME_COLUMNS), "", "", ""]

    writer.writerow(outcome_row("period", f"{report['since']}/{report['until']}", report["totals"]))
    for dimension, rows in (
        ("day", report["by_day"]),
        ("region", report["by_region"]),
        ("version", report["by_version"]),
    ):
        for row in rows:
            writer.writerow(outcome_row(dimension, row["key"], row))
    for row in report["by_category"]:
        rate = "" if row["granted_rate"] is None else f"{row['granted_rate']:.4f}"
        writer.writerow(["category", row["key"], *[""] * len(OUTCOME_COLUMNS), row["granted"], row["refused"], rate])
    return "\ufeff" + out.getvalue()


def tally(records: Iterable[dict], impressions: Iterable[tuple[str, str, str, int]]) -> Tally:
    """Count records (documents) and impression rows (day, region, version, count)."""
    counts = Tally()
    for record in records:
        counts.add_record(record)
    for day, region, version, count in impressions:
        counts.add_impressions(day, region, version, count)
    return counts

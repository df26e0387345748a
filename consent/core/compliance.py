"""Compliance warnings: where a site's configuration falls short of the law of a region it serves.

A warning is the owner-facing summary of the adjustments :func:`consent.core.rules.serve` makes: the same check,
seen from the owner's side. Warnings never change the owner's texts; they say what visitors are served instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import law, regions, rules
from .regions import Region
from .siteconfig import SiteConfig


@dataclass(frozen=True)
class ComplianceWarning:
    code: str
    rule: str  # the regional rule's key
    regions: tuple[str, ...]  # where it applies, whole named groups by their name
    law: str
    message: str
    field: str
    served: object  # what visitors of those regions get instead


def check(config: SiteConfig) -> list[ComplianceWarning]:
    """Every adjustment the law makes to ``config``'s rules, grouped by rule, problem and law."""
    grouped: dict[tuple[str, str, str, str], tuple[rules.Adjustment, set[str]]] = {}
    for code in _probes(config):
        region = Region.parse(code)
        rule = rules.select(config.rules, region)
        for adj in rules.serve(config, rule, region).adjustments:
            key = (rule.key, adj.code, adj.field, adj.law)
            grouped.setdefault(key, (adj, set()))[1].add(code)
    order = {rule.key: i for i, rule in enumerate(config.rules)}
    warnings = [
        ComplianceWarning(
            code=adj.code,
            rule=rule_key,
            regions=tuple(regions.describe(codes)),
            law=adj.law,
            message=adj.message,
            field=adj.field,
            served=adj.served,
        )
        for (rule_key, _, _, _), (adj, codes) in grouped.items()
    ]
    return sorted(warnings, key=lambda w: (order[w.rule], w.code, w.regions))


def _probes(config: SiteConfig) -> list[str]:
    """The regions worth checking: every jurisdiction with a floor, plus every code the rules name."""
    codes = set(law.JURISDICTIONS)
    for rule in config.rules:
        for entry in rule.regions:
            codes |= {c for c in regions.members(entry) if c != regions.EVERYWHERE}
    return sorted(codes)

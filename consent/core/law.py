"""The legal minimum each jurisdiction sets for a cookie banner, whatever a site's own policy says.

An owner's regional rule may be stricter than its visitors' law, never weaker: where it is weaker, the served
rule is raised to this floor (see :mod:`consent.core.rules`) and the owner is warned. Sources and dates are in
``research/standards.md`` (sections 4 and 5); the table is deliberately conservative where regulators disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import regions
from .regions import Region
from .siteconfig import ConsentModel, Purpose

THIRTEEN_MONTHS = 395  # days: CNIL's cap on consent cookies, the TCF's re-ask period
SIX_MONTHS = 182  # days: how long a refusal should be remembered before asking again (CNIL, Garante)


@dataclass(frozen=True)
class LegalFloor:
    law: str  # the law a visitor of the region is protected by, as an owner would name it
    model: ConsentModel = ConsentModel.NOTICE
    opt_in_purposes: frozenset[Purpose] = frozenset()  # need an opt-in even where the model is weaker
    reject_on_first_layer: bool = False  # refusing must be as easy as accepting
    implied_consent_valid: bool = True  # continuing to browse may count as consent
    max_consent_days: int | None = None
    min_refusal_days: int | None = None
    gpc_binding: bool = False  # Global Privacy Control is a legally valid opt-out of sale and sharing
    sale_opt_out: bool = False  # a site that sells or shares must offer an opt-out and a "Do Not Sell" link

    @property
    def constrains(self) -> bool:
        return self != NO_FLOOR


NO_FLOOR = LegalFloor(law="no specific cookie law")

_OPT_IN = dict(
    model=ConsentModel.OPT_IN,
    reject_on_first_layer=True,
    implied_consent_valid=False,
)

GDPR = LegalFloor(
    law="GDPR and ePrivacy Directive",
    **_OPT_IN,
    max_consent_days=THIRTEEN_MONTHS,
    min_refusal_days=SIX_MONTHS,
)
UK_GDPR = replace(GDPR, law="UK GDPR and PECR")
SWISS_FADP = LegalFloor(  # advertising, and social widgets that track for it, need an opt-in
    law="Swiss FADP", model=ConsentModel.OPT_OUT, opt_in_purposes=frozenset({Purpose.MARKETING, Purpose.SOCIAL})
)
LGPD = LegalFloor(law="Brazil LGPD (ANPD cookie guide)", **_OPT_IN)
QUEBEC_LAW_25 = LegalFloor(law="Quebec Law 25", **_OPT_IN)
US_STATE_GPC = LegalFloor(law="US state privacy law with a universal opt-out", gpc_binding=True, sale_opt_out=True)
US_STATE = LegalFloor(law="US state privacy law", sale_opt_out=True)
CCPA = replace(US_STATE_GPC, law="CCPA/CPRA")

_TABLE: dict[str, LegalFloor] = {
    **{code: GDPR for code in regions.EEA},
    "GB": UK_GDPR,
    "CH": SWISS_FADP,
    "BR": LGPD,
    "CA-QC": QUEBEC_LAW_25,
    **{code: US_STATE for code in regions.US_PRIVACY_STATES},
    **{code: US_STATE_GPC for code in regions.US_GPC_STATES},
    "US-CA": CCPA,
}

# Every region with a floor of its own, and every country whose visitors may have an unknown state or province
# (they get the strictest floor of that country): the regions compliance checks walk through.
JURISDICTIONS: tuple[str, ...] = tuple(sorted(set(_TABLE) | {code[:2] for code in _TABLE if "-" in code}))


def floor_for(region: Region) -> LegalFloor:
    """The legal floor for a visitor. A visitor whose state or province is unknown gets the strictest floor
    among that country's subdivisions: an unresolved Californian must not lose the protection of the CCPA."""
    if region.subdivision and region.subdivision in _TABLE:
        return _TABLE[region.subdivision]
    if region.country is None:
        return NO_FLOOR
    if region.country in _TABLE:
        return _TABLE[region.country]
    if region.subdivision is None:
        within = [floor for code, floor in _TABLE.items() if code.startswith(region.country + "-")]
        if within:
            return strictest(within, law=f"strictest law in {region.country} (state or province unknown)")
    return NO_FLOOR


def strictest(floors: list[LegalFloor], law: str) -> LegalFloor:
    def smallest(values):
        present = [v for v in values if v is not None]
        return min(present) if present else None

    def largest(values):
        present = [v for v in values if v is not None]
        return max(present) if present else None

    return LegalFloor(
        law=law,
        model=max((f.model for f in floors), key=lambda m: m.strictness),
        opt_in_purposes=frozenset().union(*(f.opt_in_purposes for f in floors)),
        reject_on_first_layer=any(f.reject_on_first_layer for f in floors),
        implied_consent_valid=all(f.implied_consent_valid for f in floors),
        max_consent_days=smallest(f.max_consent_days for f in floors),
        min_refusal_days=largest(f.min_refusal_days for f in floors),
        gpc_binding=any(f.gpc_binding for f in floors),
        sale_opt_out=any(f.sale_opt_out for f in floors),
    )

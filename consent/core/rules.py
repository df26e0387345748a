"""Which regional rule a visitor gets, and the rule actually served once the visitor's law is applied.

The law of the visitor's region wins over the owner's configuration: :func:`serve` raises a rule to the legal
floor of the region and lists every change as an :class:`Adjustment`. Those adjustments are what the owner is
warned about (:mod:`consent.core.compliance`) and what the proof log records as the rule applied; there is no
second copy of the legal checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import law, regions
from .regions import Region
from .siteconfig import (
    Button,
    ConsentModel,
    FirstLayer,
    Link,
    RegionalRule,
    SignalTreatment,
    SiteConfig,
)


@dataclass(frozen=True)
class Adjustment:
    """One change the law made to the owner's rule for a region."""

    code: str
    field: str
    configured: object
    served: object
    law: str
    message: str


@dataclass(frozen=True)
class ServedRule:
    key: str
    name: str | None
    model: ConsentModel
    first_layer: FirstLayer
    defaults: dict[str, bool]  # every category -> on before the visitor chooses
    gpc: SignalTreatment
    dnt: SignalTreatment
    implied_consent: bool
    consent_lifetime_days: int
    refusal_lifetime_days: int
    text_variant: str | None
    law: str
    adjustments: tuple[Adjustment, ...]


def select(rules: tuple[RegionalRule, ...], region: Region) -> RegionalRule:
    """The rule whose region entries name ``region`` most specifically (publishing rejects ties, and requires a
    rule for ``*``, so there is always exactly one)."""
    best: RegionalRule | None = None
    best_level = -1
    for rule in rules:
        for entry in rule.regions:
            level = regions.specificity(entry, region)
            if level is not None and level > best_level:
                best, best_level = rule, level
    if best is None:
        raise LookupError(f"no rule covers {region}")
    return best


def serve(config: SiteConfig, rule: RegionalRule, region: Region) -> ServedRule:
    """``rule`` as served to a visitor from ``region``: raised to that region's legal floor where it falls short."""
    floor = law.floor_for(region)
    changes = _Changes(floor.law)

    model = rule.model
    if model.strictness < floor.model.strictness:
        changes.add(
            "model_too_weak",
            field="model",
            configured=model,
            served=floor.model,
            message=f"{floor.law} requires {floor.model.label} consent; the rule is {model.label}"
            + _rewording_hint(config, floor.model),
        )
        model = floor.model
    if config.site.sells_or_shares and floor.sale_opt_out and model == ConsentModel.NOTICE:
        changes.add(
            "sale_opt_out_missing",
            field="model",
            configured=model,
            served=ConsentModel.OPT_OUT,
            message=f"the site sells or shares personal information, and {floor.law} lets visitors opt out of that; "
            "a notice offers no way to",
        )
        model = ConsentModel.OPT_OUT

    defaults = {}
    for category in config.categories:
        if category.necessary:
            defaults[category.key] = True
            continue
        explicit = rule.defaults.get(category.key)
        on = explicit if explicit is not None else rule.model != ConsentModel.OPT_IN
        if model == ConsentModel.OPT_IN:
            if explicit:  # a pre-ticked box; implicit defaults of a raised model go with 'model_too_weak'
                changes.add(
                    "preselected_category",
                    field=f"defaults.{category.key}",
                    configured=True,
                    served=False,
                    message=f"category {category.key!r} is on before any choice; {floor.law} requires a prior opt-in",
                )
            on = False
        elif on and category.purpose in floor.opt_in_purposes:
            changes.add(
                "opt_in_purpose",
                field=f"defaults.{category.key}",
                configured=True,
                served=False,
                message=f"{category.purpose} category {category.key!r} needs an opt-in under {floor.law}",
            )
            on = False
        defaults[category.key] = on

    buttons = list(rule.first_layer.buttons)
    links = list(rule.first_layer.links)
    raised = model != rule.model
    if raised and model == ConsentModel.OPT_IN:
        # The banner must now collect consent; a "Close" would dismiss it without any choice being made.
        buttons = [b for b in buttons if b != Button.CLOSE]
        if Button.ACCEPT_ALL not in buttons:
            buttons.insert(0, Button.ACCEPT_ALL)
    if model == ConsentModel.OPT_IN and floor.reject_on_first_layer and Button.REJECT_ALL not in buttons:
        if not raised:  # a raised rule gets its "Reject all" with 'model_too_weak'
            changes.add(
                "reject_missing",
                field="first_layer.buttons",
                configured=tuple(rule.first_layer.buttons),
                served=Button.REJECT_ALL,
                message=f"refusing must be as easy as accepting under {floor.law}; "
                "'Reject all' is added to the first layer",
            )
        at = buttons.index(Button.ACCEPT_ALL) + 1 if Button.ACCEPT_ALL in buttons else 0
        buttons.insert(at, Button.REJECT_ALL)
    if raised and Button.PREFERENCES not in buttons:
        buttons.append(Button.PREFERENCES)  # a raised notice needs a way to choose per category
    if config.site.sells_or_shares and floor.sale_opt_out and Link.DO_NOT_SELL not in links:
        changes.add(
            "do_not_sell_link_missing",
            field="first_layer.links",
            configured=tuple(rule.first_layer.links),
            served=Link.DO_NOT_SELL,
            message=f"the site sells or shares personal information: {floor.law} requires a "
            "'Do Not Sell or Share My Personal Information' link",
        )
        links.append(Link.DO_NOT_SELL)

    implied = rule.implied_consent
    if implied and (model == ConsentModel.OPT_IN or not floor.implied_consent_valid):
        changes.add(
            "implied_consent_invalid",
            field="implied_consent",
            configured=True,
            served=False,
            message=f"continuing to use the site is not consent under {floor.law}",
        )
        implied = False

    consent_days = rule.consent_lifetime_days
    if floor.max_consent_days is not None and consent_days > floor.max_consent_days:
        changes.add(
            "consent_lifetime_too_long",
            field="consent_lifetime_days",
            configured=consent_days,
            served=floor.max_consent_days,
            message=f"a consent is kept {consent_days} days; under {floor.law} visitors are asked again within "
            f"{floor.max_consent_days} days (13 months)",
        )
        consent_days = floor.max_consent_days

    refusal_days = rule.refusal_lifetime_days
    if floor.min_refusal_days is not None and refusal_days < floor.min_refusal_days:
        changes.add(
            "refusal_lifetime_too_short",
            field="refusal_lifetime_days",
            configured=refusal_days,
            served=floor.min_refusal_days,
            message=f"a refusal is forgotten after {refusal_days} days; asking again within 6 months "
            f"pressures visitors into consenting ({floor.law} guidance)",
        )
        refusal_days = floor.min_refusal_days

    gpc = rule.gpc
    if floor.gpc_binding and gpc == SignalTreatment.IGNORE:
        changes.add(
            "gpc_ignored",
            field="gpc",
            configured=gpc,
            served=SignalTreatment.OPT_OUT,
            message=f"Global Privacy Control is a binding opt-out of sale and sharing under {floor.law}; "
            "it is honoured",
        )
        gpc = SignalTreatment.OPT_OUT

    text_variant = rule.text_variant
    if raised and _has_variant(config, model.value):
        text_variant = model.value  # the owner's words for the model the law imposes

    return ServedRule(
        key=rule.key,
        name=rule.name,
        model=model,
        first_layer=FirstLayer(buttons=tuple(buttons), links=tuple(links)),
        defaults=defaults,
        gpc=gpc,
        dnt=rule.dnt,
        implied_consent=implied,
        consent_lifetime_days=consent_days,
        refusal_lifetime_days=refusal_days,
        text_variant=text_variant,
        law=floor.law,
        adjustments=tuple(changes.made),
    )


def _has_variant(config: SiteConfig, name: str) -> bool:
    return all(name in text.variants for text in config.texts)


def _rewording_hint(config: SiteConfig, model: ConsentModel) -> str:
    if _has_variant(config, model.value):
        return f"; the banner uses the texts' '{model.value}' variant there"
    return (
        f"; the banner's wording may not fit: give each banner text a variant named '{model.value}', "
        "which is shown wherever the law raises a rule to that model"
    )


class _Changes:
    def __init__(self, law_name: str):
        self.law = law_name
        self.made: list[Adjustment] = []

    def add(self, code: str, field: str, configured: object, served: object, message: str) -> None:
        self.made.append(Adjustment(code, field, configured, served, self.law, message))

"""The banner a visitor is served: one published version, resolved for a region and a language.

The result is the JSON document the public banner endpoint returns and the snippet renders: the owner's texts
in the visitor's language (platform labels where the owner gave none), the rule served in that region once its
law is applied, every category with its vendors, their cookies and the Consent Mode types it grants, and the
owner's snippet options (theme, Consent Mode, reload after an opt-out).
"""

from __future__ import annotations

from typing import Any

from . import language as lang
from . import rules
from .declaration import vendor_entry
from .regions import Region
from .siteconfig import SiteConfig, SnippetOptions, Vendor


def resolve(
    config: SiteConfig, version: str, region: Region, language: str, notice: dict[str, str] | None = None
) -> dict[str, Any]:
    """``language`` must be one of the config's languages (see :func:`consent.core.language.negotiate`).
    ``notice``: a material change returning visitors are told about (:mod:`consent.core.notices`), if one runs."""
    default = config.site.default_language
    rule = rules.serve(config, rules.select(config.rules, region), region)
    text = config.text(language) or config.text(default)
    assert text is not None, "published configurations have a text in the default language"
    texts = {**lang.labels(language), **{k: v for k, v in text.fields(rule.text_variant).items() if v}}

    vendors_by_category: dict[str, list[Vendor]] = {}
    for vendor in config.vendors:
        vendors_by_category.setdefault(vendor.category, []).append(vendor)

    def localized(values: dict[str, str]) -> str | None:
        return lang.pick(values, language, default)

    return {
        "site": config.site.key,
        "version": version,
        "language": text.language,
        "dir": lang.direction(text.language),
        "region": {"country": region.country, "subdivision": region.subdivision},
        "rule": {
            "key": rule.key,
            "name": rule.name,
            "law": rule.law,
            "model": str(rule.model),
            "first_layer": {
                "buttons": [str(b) for b in rule.first_layer.buttons],
                "links": [str(link) for link in rule.first_layer.links],
            },
            "gpc": str(rule.gpc),
            "dnt": str(rule.dnt),
            "implied_consent": rule.implied_consent,
            "consent_lifetime_days": rule.consent_lifetime_days,
            "refusal_lifetime_days": rule.refusal_lifetime_days,
            "adjustments": [{"code": a.code, "field": a.field, "message": a.message} for a in rule.adjustments],
        },
        "texts": texts,
        "notice": notice,
        "categories": [
            {
                "key": category.key,
                "purpose": str(category.purpose),
                "necessary": category.necessary,
                "sale_or_sharing": category.sells_or_shares,
                "default": rule.defaults[category.key],
                "consent_types": [str(t) for t in config.consent_types(category)],
                "name": localized(category.name),
                "description": localized(category.description),
                "vendors": [vendor_entry(vendor, localized) for vendor in vendors_by_category.get(category.key, [])],
            }
            for category in config.categories
        ],
        "snippet": snippet_options(config.snippet),
    }


def snippet_options(options: SnippetOptions) -> dict[str, Any]:
    """The owner's snippet options; the category-to-consent-type mapping is resolved on each category."""
    mode = options.consent_mode
    return {
        "theme": {name: str(value) for name, value in vars(options.theme).items()},
        "consent_mode": {
            "enabled": mode.enabled,
            "ads_data_redaction": mode.ads_data_redaction,
            "url_passthrough": mode.url_passthrough,
            "advanced": mode.advanced,
        },
        "reload_on_opt_out": options.reload_on_opt_out,
        "reopen_button": options.reopen_button,
    }

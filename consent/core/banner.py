"""The banner a visitor is served: one published version, resolved for a region and a language.

The result is the JSON document the public banner endpoint returns and the snippet renders: the owner's texts
in the visitor's language (platform labels where the owner gave none), the rule served in that region once its
law is applied, and every category with its vendors and their cookies.
"""

from __future__ import annotations

from typing import Any

from . import language as lang
from . import rules
from .regions import Region
from .siteconfig import SiteConfig, StorageItem, Vendor


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

    def cookie(item: StorageItem) -> dict[str, Any]:
        return {
            "name": item.name,
            "pattern": item.is_pattern,
            "type": str(item.type),
            "domain": item.domain,
            "duration": item.duration,
            "party": str(item.party),
            "purpose": localized(item.purpose),
        }

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
                "name": localized(category.name),
                "description": localized(category.description),
                "vendors": [
                    {
                        "key": vendor.key,
                        "name": vendor.name,
                        "privacy_policy_url": vendor.privacy_policy_url,
                        "description": localized(vendor.description),
                        "cookies": [cookie(item) for item in vendor.cookies],
                    }
                    for vendor in vendors_by_category.get(category.key, [])
                ],
            }
            for category in config.categories
        ],
    }

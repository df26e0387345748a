"""A site's cookie declaration: every category, the vendors under it and each cookie or other storage they set,
with its purpose, duration and party, in one of the site's languages, as a published version froze them.

It is what an owner's cookie policy must list (OptiPost's "Cookie Statement", Anytime Postage's "Cookie Policy"),
generated from the same version the banner is served from, so the two can never disagree.
"""

from __future__ import annotations

from typing import Any

from . import language as lang
from .siteconfig import SiteConfig, StorageItem, Vendor


def declaration(config: SiteConfig, language: str) -> dict[str, Any]:
    """``language`` is one of the config's languages (see :func:`consent.core.language.negotiate`)."""
    default = config.site.default_language
    text = config.text(language) or config.text(default)
    assert text is not None, "published configurations have a text in the default language"

    def localized(values: dict[str, str]) -> str | None:
        return lang.pick(values, language, default)

    return {
        "site": {"key": config.site.key, "name": config.site.name, "domains": list(config.site.domains)},
        "language": text.language,
        "dir": lang.direction(text.language),
        "privacy_policy_url": text.privacy_policy_url,
        "cookie_policy_url": text.cookie_policy_url,
        "categories": [
            {
                "key": category.key,
                "name": localized(category.name),
                "description": localized(category.description),
                "necessary": category.necessary,
                "sale_or_sharing": category.sells_or_shares,
                "vendors": [vendor_entry(v, localized) for v in config.vendors if v.category == category.key],
            }
            for category in config.categories
        ],
    }


def vendor_entry(vendor: Vendor, localized) -> dict[str, Any]:
    return {
        "key": vendor.key,
        "name": vendor.name,
        "privacy_policy_url": vendor.privacy_policy_url,
        "description": localized(vendor.description),
        "cookies": [cookie_entry(item, localized) for item in vendor.cookies],
    }


def cookie_entry(item: StorageItem, localized) -> dict[str, Any]:
    return {
        "name": item.name,
        "pattern": item.is_pattern,
        "type": str(item.type),
        "domain": item.domain,
        "duration": item.duration,
        "party": str(item.party),
        "purpose": localized(item.purpose),
    }

"""A site's configuration: the categories, vendors, cookies, banner texts and regional rules an owner edits.

These are values. Publishing freezes one of them as an immutable, content-hashed version; the banner a visitor
sees is resolved from such a version. :func:`problems` lists what makes a configuration unpublishable (a vendor
in a category that does not exist, two rules claiming the same region, ...), as ``(path, message)`` pairs so that
callers can name the offending field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from . import regions


class ConsentModel(StrEnum):
    """How consent is obtained in a region, from the most protective to the least."""

    OPT_IN = "opt_in"  # nothing optional runs before an affirmative choice
    OPT_OUT = "opt_out"  # optional categories run until the visitor opts out
    NOTICE = "notice"  # the visitor is informed; categories run

    @property
    def strictness(self) -> int:
        return {ConsentModel.OPT_IN: 2, ConsentModel.OPT_OUT: 1, ConsentModel.NOTICE: 0}[self]

    @property
    def label(self) -> str:
        return {ConsentModel.OPT_IN: "opt-in", ConsentModel.OPT_OUT: "opt-out", ConsentModel.NOTICE: "notice"}[self]


class Purpose(StrEnum):
    """The kind of processing a category stands for; drives defaults and what opt-outs switch off."""

    NECESSARY = "necessary"
    PREFERENCES = "preferences"
    ANALYTICS = "analytics"
    MARKETING = "marketing"
    SOCIAL = "social"


class SignalTreatment(StrEnum):
    """What a browser privacy signal (Global Privacy Control, Do Not Track) does under a rule."""

    IGNORE = "ignore"
    OPT_OUT = "opt_out"  # opt out of the categories that sell or share data (sale, sharing, targeted ads)
    REJECT_ALL = "reject_all"  # refuse every optional category


class Party(StrEnum):
    FIRST = "first"
    THIRD = "third"


class StorageType(StrEnum):
    COOKIE = "cookie"
    LOCAL_STORAGE = "local_storage"
    SESSION_STORAGE = "session_storage"
    INDEXED_DB = "indexed_db"
    PIXEL = "pixel"  # a web beacon: sets nothing itself, but sends a request


class Button(StrEnum):
    """Controls the first layer of a banner can show."""

    ACCEPT_ALL = "accept_all"
    REJECT_ALL = "reject_all"
    PREFERENCES = "preferences"  # opens the second layer
    CLOSE = "close"  # acknowledges a notice


class Link(StrEnum):
    """Links the first layer of a banner can show."""

    PRIVACY_POLICY = "privacy_policy"
    COOKIE_POLICY = "cookie_policy"
    DO_NOT_SELL = "do_not_sell"  # "Do Not Sell or Share My Personal Information"


SALE_OR_SHARING_PURPOSES = frozenset({Purpose.MARKETING, Purpose.SOCIAL})


class ConsentType(StrEnum):
    """Google Consent Mode v2 consent types."""

    AD_STORAGE = "ad_storage"
    AD_USER_DATA = "ad_user_data"
    AD_PERSONALIZATION = "ad_personalization"
    ANALYTICS_STORAGE = "analytics_storage"
    FUNCTIONALITY_STORAGE = "functionality_storage"
    PERSONALIZATION_STORAGE = "personalization_storage"
    SECURITY_STORAGE = "security_storage"


# What a category of each purpose grants in Google Consent Mode unless the owner maps it otherwise.
CONSENT_TYPES_BY_PURPOSE: dict[Purpose, tuple[ConsentType, ...]] = {
    Purpose.NECESSARY: (ConsentType.SECURITY_STORAGE,),
    Purpose.PREFERENCES: (ConsentType.FUNCTIONALITY_STORAGE, ConsentType.PERSONALIZATION_STORAGE),
    Purpose.ANALYTICS: (ConsentType.ANALYTICS_STORAGE,),
    Purpose.MARKETING: (ConsentType.AD_STORAGE, ConsentType.AD_USER_DATA, ConsentType.AD_PERSONALIZATION),
    Purpose.SOCIAL: (),
}


class BannerPosition(StrEnum):
    BOTTOM = "bottom"  # a bar along the bottom edge
    TOP = "top"
    BOTTOM_LEFT = "bottom_left"  # a box in a corner
    BOTTOM_RIGHT = "bottom_right"
    CENTER = "center"  # a box in the middle of the window


KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
DURATION_PATTERN = re.compile(r"^(session|persistent|\d{1,5} (second|minute|hour|day|week|month|year)s?)$")
STORAGE_NAME_PATTERN = re.compile(r"^[!#$%&'+.0-9A-Z^_`a-z|~*-]{1,128}$")  # cookie-name characters plus '*'
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_TEXT_CONTRAST = 4.5  # WCAG 2.2 AA, 1.4.3: normal text
MIN_UI_CONTRAST = 3.0  # WCAG 2.2 AA, 1.4.11: a button's edge against what surrounds it

LocalizedText = dict[str, str]  # language tag -> text


@dataclass(frozen=True)
class StorageItem:
    """A cookie or other storage a vendor sets. ``name`` is exact, or a pattern where ``*`` matches any run."""

    name: str
    type: StorageType = StorageType.COOKIE
    domain: str | None = None
    duration: str = "session"
    party: Party = Party.FIRST
    purpose: LocalizedText = field(default_factory=dict)

    @property
    def is_pattern(self) -> bool:
        return "*" in self.name


@dataclass(frozen=True)
class Vendor:
    """A service under a category (Google Analytics, a LinkedIn widget) and the storage it sets."""

    key: str
    name: str
    category: str
    privacy_policy_url: str | None = None
    description: LocalizedText = field(default_factory=dict)
    cookies: tuple[StorageItem, ...] = ()


@dataclass(frozen=True)
class Category:
    key: str
    purpose: Purpose
    name: LocalizedText
    description: LocalizedText = field(default_factory=dict)
    sale_or_sharing: bool | None = None  # None: decided by the purpose

    @property
    def necessary(self) -> bool:
        return self.purpose == Purpose.NECESSARY

    @property
    def sells_or_shares(self) -> bool:
        if self.sale_or_sharing is not None:
            return self.sale_or_sharing
        return self.purpose in SALE_OR_SHARING_PURPOSES


TEXT_FIELDS = (
    "title",
    "body",
    "accept_all",
    "reject_all",
    "preferences",
    "save",
    "close",
    "do_not_sell",
    "preferences_title",
    "preferences_body",
    "gpc_honored",
    "privacy_policy_url",
    "cookie_policy_url",
)
REQUIRED_TEXT_FIELDS = ("title", "body")


@dataclass(frozen=True)
class BannerText:
    """The owner's words for one language. ``variants`` holds named overrides a rule can select."""

    language: str
    title: str
    body: str
    accept_all: str | None = None
    reject_all: str | None = None
    preferences: str | None = None
    save: str | None = None
    close: str | None = None
    do_not_sell: str | None = None
    preferences_title: str | None = None
    preferences_body: str | None = None
    gpc_honored: str | None = None
    privacy_policy_url: str | None = None
    cookie_policy_url: str | None = None
    variants: dict[str, dict[str, str]] = field(default_factory=dict)

    def fields(self, variant: str | None = None) -> dict[str, str | None]:
        values = {name: getattr(self, name) for name in TEXT_FIELDS}
        if variant:
            values.update(self.variants.get(variant, {}))
        return values


@dataclass(frozen=True)
class FirstLayer:
    buttons: tuple[Button, ...]
    links: tuple[Link, ...] = (Link.PRIVACY_POLICY,)


@dataclass(frozen=True)
class RegionalRule:
    """What visitors from some regions are shown and how their signals are treated."""

    key: str
    regions: tuple[str, ...]
    model: ConsentModel
    first_layer: FirstLayer
    name: str | None = None
    defaults: dict[str, bool] = field(default_factory=dict)  # category -> on before any choice (overrides model)
    gpc: SignalTreatment = SignalTreatment.OPT_OUT
    dnt: SignalTreatment = SignalTreatment.IGNORE
    implied_consent: bool = False  # continuing to browse counts as consent
    consent_lifetime_days: int = 365
    refusal_lifetime_days: int = 182  # six months
    text_variant: str | None = None


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    domains: tuple[str, ...]
    default_language: str
    retention_days: int = 1825
    default_region: str | None = None
    sells_or_shares: bool = False  # sells personal information or shares it for cross-context advertising
    allow_region_override: bool = False  # the ?region= test parameter works in production too


@dataclass(frozen=True)
class Theme:
    """The banner's look, chosen by the owner without code. Colours are ``#rrggbb``."""

    position: BannerPosition = BannerPosition.BOTTOM
    background: str = "#ffffff"
    text: str = "#1f2328"
    accent: str = "#1d4ed8"  # the buttons, all alike so that refusing looks exactly like accepting
    accent_text: str = "#ffffff"


@dataclass(frozen=True)
class ConsentMode:
    """How the snippet drives Google Consent Mode v2 on the owner's pages."""

    enabled: bool = True
    types: dict[str, tuple[ConsentType, ...]] = field(default_factory=dict)  # category -> types; unset: purpose's
    ads_data_redaction: bool = True  # redact ad identifiers while ad_storage is denied
    url_passthrough: bool = False  # link decoration: a tracking technique of its own, so only if the owner asks
    advanced: bool = False  # Google tags marked data-consent-mode load before a choice (Basic mode when False)


@dataclass(frozen=True)
class SnippetOptions:
    """What the snippet does on the owner's pages beyond the banner's words."""

    theme: Theme = field(default_factory=Theme)
    consent_mode: ConsentMode = field(default_factory=ConsentMode)
    reload_on_opt_out: bool = False  # reload the page after a refusal, to unload tags that already ran
    reopen_button: bool = True  # the floating button that reopens the preferences


@dataclass(frozen=True)
class SiteConfig:
    site: Site
    categories: tuple[Category, ...]
    vendors: tuple[Vendor, ...]
    texts: tuple[BannerText, ...]
    rules: tuple[RegionalRule, ...]
    snippet: SnippetOptions = field(default_factory=SnippetOptions)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(text.language for text in self.texts)

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)

    def text(self, language: str) -> BannerText | None:
        return next((t for t in self.texts if t.language == language), None)

    def consent_types(self, category: Category) -> tuple[ConsentType, ...]:
        """The Consent Mode types a category grants: the owner's mapping, else the default for its purpose."""
        mapped = self.snippet.consent_mode.types.get(category.key)
        return mapped if mapped is not None else CONSENT_TYPES_BY_PURPOSE[category.purpose]


FORMAT_VERSION = 1

Problem = tuple[tuple[str | int, ...], str]  # (path to the field, message)


def problems(config: SiteConfig) -> list[Problem]:
    """Everything that makes ``config`` inconsistent; empty when it can be published."""
    found: list[Problem] = []
    found += _duplicates(("categories",), [c.key for c in config.categories])
    found += _duplicates(("vendors",), [v.key for v in config.vendors])
    found += _duplicates(("texts",), [t.language for t in config.texts])
    found += _duplicates(("rules",), [r.key for r in config.rules])

    category_keys = {c.key for c in config.categories}
    for i, vendor in enumerate(config.vendors):
        if vendor.category not in category_keys:
            found.append((("vendors", i, "category"), f"unknown category {vendor.category!r}"))

    if config.site.default_language not in config.languages:
        found.append(
            (("site", "default_language"), f"no banner text in the default language {config.site.default_language!r}")
        )

    variants = {name for text in config.texts for name in text.variants}
    for i, rule in enumerate(config.rules):
        for category, on in rule.defaults.items():
            cat = config.category(category)
            if cat is None:
                found.append((("rules", i, "defaults", category), f"unknown category {category!r}"))
            elif cat.necessary and not on:
                found.append((("rules", i, "defaults", category), "a necessary category cannot be off"))
        if rule.implied_consent and rule.model == ConsentModel.OPT_IN:
            found.append((("rules", i, "implied_consent"), "implied consent contradicts the opt-in model"))
        if rule.text_variant and rule.text_variant not in variants:
            found.append((("rules", i, "text_variant"), f"no banner text has a variant {rule.text_variant!r}"))

    found += _overlapping_rules(config.rules)
    if not any(regions.EVERYWHERE in rule.regions for rule in config.rules):
        found.append((("rules",), "no rule covers the rest of the world: add one whose regions include '*'"))
    for key in config.snippet.consent_mode.types:
        if key not in category_keys:
            found.append((("snippet", "consent_mode", "types", key), f"unknown category {key!r}"))
    found += _unreadable_theme(config.snippet.theme)
    return found


def contrast(first: str, second: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours, from 1 (same) to 21 (black on white)."""

    def luminance(color: str) -> float:
        channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _unreadable_theme(theme: Theme) -> list[Problem]:
    """A theme must keep the banner readable (WCAG AA): whoever cannot read it cannot choose."""
    found: list[Problem] = []
    pairs = (
        ("text", theme.text, theme.background, MIN_TEXT_CONTRAST, "the text on the background"),
        ("accent_text", theme.accent_text, theme.accent, MIN_TEXT_CONTRAST, "the button labels on the buttons"),
        ("accent", theme.accent, theme.background, MIN_UI_CONTRAST, "the buttons against the background"),
    )
    for name, first, second, minimum, what in pairs:
        ratio = contrast(first, second)
        if ratio < minimum:
            found.append(
                (("snippet", "theme", name), f"{what} contrast {ratio:.2f}:1; WCAG AA needs at least {minimum}:1")
            )
    return found


def _duplicates(path: tuple[str, ...], keys: list[str]) -> list[Problem]:
    seen: set[str] = set()
    found = []
    for i, key in enumerate(keys):
        if key in seen:
            found.append(((*path, i), f"duplicate {key!r}"))
        seen.add(key)
    return found


def _overlapping_rules(rules: tuple[RegionalRule, ...]) -> list[Problem]:
    """Two rules that name the same region equally specifically leave the choice undefined."""
    probes: set[regions.Region] = {regions.Region(None)}  # a visitor no rule names: who gets them?
    for rule in rules:
        for entry in rule.regions:
            for code in regions.members(entry):
                if code != regions.EVERYWHERE:
                    probes.add(regions.Region(code[:2], code if "-" in code else None))
                    probes.add(regions.Region(code[:2]))
    found = []
    reported: set[tuple[str, str]] = set()
    for probe in sorted(probes, key=str):
        best: dict[int, list[int]] = {}
        for i, rule in enumerate(rules):
            levels = [regions.specificity(e, probe) for e in rule.regions]
            level = max((lv for lv in levels if lv is not None), default=None)
            if level is not None:
                best.setdefault(level, []).append(i)
        if best:
            winners = best[max(best)]
            if len(winners) > 1:
                pair = (rules[winners[0]].key, rules[winners[1]].key)
                if pair not in reported:
                    reported.add(pair)
                    where = "every region no other rule names ('*')" if probe.country is None else str(probe)
                    found.append(
                        (
                            ("rules", winners[1], "regions"),
                            f"rules {pair[0]!r} and {pair[1]!r} both claim {where} equally specifically",
                        )
                    )
    return found

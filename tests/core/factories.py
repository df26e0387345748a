"""Small site configurations for core tests, built from values: no app, no database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from consent.core import siteconfig as sc
from consent.schemas.site import SiteConfigSchema, build

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str) -> sc.SiteConfig:
    return build(SiteConfigSchema().load(yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())))


def rule(key="everywhere", regions=("*",), model=sc.ConsentModel.OPT_IN, buttons=None, **fields) -> sc.RegionalRule:
    if buttons is None:
        buttons = {
            sc.ConsentModel.OPT_IN: ("accept_all", "reject_all", "preferences"),
            sc.ConsentModel.OPT_OUT: ("close", "preferences"),
            sc.ConsentModel.NOTICE: ("close",),
        }[model]
    layer = sc.FirstLayer(buttons=tuple(sc.Button(b) for b in buttons), links=(sc.Link.PRIVACY_POLICY,))
    return sc.RegionalRule(key=key, regions=tuple(regions), model=model, first_layer=layer, **fields)


def config(*rules: sc.RegionalRule, sells_or_shares=False) -> sc.SiteConfig:
    return sc.SiteConfig(
        site=sc.Site(
            key="shop", name="Shop", domains=("shop.example",), default_language="en", sells_or_shares=sells_or_shares
        ),
        categories=(
            sc.Category(key="necessary", purpose=sc.Purpose.NECESSARY, name={"en": "Necessary"}),
            sc.Category(key="analytics", purpose=sc.Purpose.ANALYTICS, name={"en": "Analytics"}),
            sc.Category(key="ads", purpose=sc.Purpose.MARKETING, name={"en": "Advertising"}),
        ),
        vendors=(),
        texts=(sc.BannerText(language="en", title="Cookies", body="We use cookies."),),
        rules=rules or (rule(),),
    )


def with_rules(base: sc.SiteConfig, *rules: sc.RegionalRule) -> sc.SiteConfig:
    return replace(base, rules=rules)

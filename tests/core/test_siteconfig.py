"""What makes a configuration unpublishable, named by path."""

from dataclasses import replace

from consent.core import siteconfig as sc

from .factories import config, rule

M = sc.ConsentModel


def paths(cfg):
    return {path: message for path, message in sc.problems(cfg)}


def test_a_consistent_configuration_has_no_problems():
    assert sc.problems(config()) == []


def test_a_vendor_in_an_unknown_category_is_named():
    cfg = replace(config(), vendors=(sc.Vendor(key="ga", name="GA", category="stats"),))
    assert paths(cfg) == {("vendors", 0, "category"): "unknown category 'stats'"}


def test_two_rules_claiming_the_same_region_equally_are_refused():
    cfg = config(rule("world", ("*",)), rule("a", ("EEA",)), rule("b", ("EU",)))
    assert any("both claim" in message for message in paths(cfg).values())


def test_a_country_rule_beside_a_group_rule_is_not_an_overlap():
    assert sc.problems(config(rule("world", ("*",)), rule("eea", ("EEA",)), rule("fr", ("FR",)))) == []


def test_every_configuration_needs_a_rule_for_the_rest_of_the_world():
    assert ("rules",) in paths(config(rule("eea", ("EEA",))))


def test_a_necessary_category_cannot_be_switched_off():
    cfg = config(rule(model=M.OPT_OUT, defaults={"necessary": False}))
    assert paths(cfg) == {("rules", 0, "defaults", "necessary"): "a necessary category cannot be off"}


def test_implied_consent_contradicts_an_opt_in_rule():
    assert ("rules", 0, "implied_consent") in paths(config(rule(model=M.OPT_IN, implied_consent=True)))


def test_the_default_language_needs_a_banner_text():
    cfg = replace(config(), site=replace(config().site, default_language="fr"))
    assert ("site", "default_language") in paths(cfg)


def test_duplicate_keys_are_named():
    base = config()
    cfg = replace(base, categories=(*base.categories, base.categories[1]))
    assert paths(cfg) == {("categories", 3): "duplicate 'analytics'"}


def test_a_storage_pattern_is_recognised():
    assert sc.StorageItem(name="_ga_*").is_pattern and not sc.StorageItem(name="_ga").is_pattern


def test_two_rules_for_everywhere_are_refused():
    # found while documenting: the first '*' rule silently won
    cfg = config(rule("world", ("*",)), rule("also-world", ("*",), M.NOTICE))
    assert any("both claim every region no other rule names" in message for message in paths(cfg).values())


# --- snippet options -------------------------------------------------------------------------------------------


def with_snippet(**options) -> sc.SiteConfig:
    return replace(config(), snippet=sc.SnippetOptions(**options))


def test_a_theme_whose_text_is_hard_to_read_is_refused():
    found = paths(with_snippet(theme=sc.Theme(background="#ffffff", text="#aaaaaa")))
    assert "WCAG AA needs at least 4.5:1" in found[("snippet", "theme", "text")]


def test_button_labels_and_buttons_must_stand_out():
    found = paths(with_snippet(theme=sc.Theme(accent="#fafafa", accent_text="#ffffff")))
    assert ("snippet", "theme", "accent_text") in found and ("snippet", "theme", "accent") in found


def test_the_default_theme_is_readable():
    theme = sc.Theme()
    assert sc.contrast(theme.text, theme.background) >= 4.5
    assert sc.contrast(theme.accent_text, theme.accent) >= 4.5
    assert round(sc.contrast("#000000", "#ffffff"), 1) == 21.0


def test_a_consent_mode_mapping_names_existing_categories():
    mode = sc.ConsentMode(types={"statistics": (sc.ConsentType.ANALYTICS_STORAGE,)})
    assert paths(with_snippet(consent_mode=mode)) == {
        ("snippet", "consent_mode", "types", "statistics"): "unknown category 'statistics'"
    }


def test_consent_types_follow_the_purpose_unless_the_owner_maps_them():
    cfg = with_snippet(consent_mode=sc.ConsentMode(types={"ads": (sc.ConsentType.AD_STORAGE,)}))
    necessary, analytics, ads = cfg.categories
    assert cfg.consent_types(necessary) == (sc.ConsentType.SECURITY_STORAGE,)
    assert cfg.consent_types(analytics) == (sc.ConsentType.ANALYTICS_STORAGE,)
    assert cfg.consent_types(ads) == (sc.ConsentType.AD_STORAGE,)

import pytest

from consent.core import regions
from consent.core.regions import Region


def test_a_subdivision_code_names_its_country():
    assert Region.parse("us-ca") == Region("US", "US-CA")
    assert Region.parse("FR") == Region("FR")


@pytest.mark.parametrize("code", ["ZZ", "US-XX", "EU", "france", "", "U$"])
def test_unknown_codes_are_refused(code):
    with pytest.raises(ValueError):
        Region.parse(code)


@pytest.mark.parametrize("entry", ["*", "EEA", "EU", "UK", "US-GPC-STATES", "DE", "US-CA", "CA-QC"])
def test_rule_entries_may_be_codes_groups_or_everywhere(entry):
    assert regions.validate_entry(entry) is None


def test_lower_case_entries_are_refused_with_the_fix():
    assert "'DE'" in regions.validate_entry("de")


def test_the_eea_is_the_eu_plus_iceland_liechtenstein_and_norway():
    assert len(regions.EU) == 27 and {"IS", "LI", "NO"} == regions.EEA - regions.EU
    assert "GB" not in regions.EEA


def test_a_named_state_is_more_specific_than_a_group_of_states_than_the_country_than_everywhere():
    californian = Region("US", "US-CA")
    levels = [regions.specificity(e, californian) for e in ("US-CA", "US-GPC-STATES", "US", "*")]
    assert levels == sorted(levels, reverse=True) and len(set(levels)) == 4


def test_entries_for_other_places_do_not_match():
    assert regions.specificity("US-TX", Region("US", "US-CA")) is None
    assert regions.specificity("EEA", Region("US")) is None
    assert regions.specificity("US-CA", Region("US")) is None  # an unknown state is not California


def test_describe_names_whole_groups():
    assert regions.describe(set(regions.EEA) | {"GB"}) == ["EEA", "GB"]

from consent.core import language


def test_a_regional_variant_gets_the_language():
    assert language.negotiate(["fr-BE", "en"], ["en", "fr"], "en") == "fr"


def test_a_language_gets_its_only_regional_variant():
    assert language.negotiate(["pt"], ["en", "pt-BR"], "en") == "pt-BR"


def test_preference_order_is_kept():
    assert language.negotiate(["de", "nl", "fr"], ["en", "fr", "nl"], "en") == "nl"


def test_nothing_offered_falls_back_to_the_default():
    assert language.negotiate(["ja"], ["en", "fr"], "fr") == "fr"
    assert language.negotiate([], ["en", "fr"], "fr") == "fr"


def test_right_to_left_languages():
    assert language.direction("ar") == "rtl" and language.direction("he-IL") == "rtl"
    assert language.direction("fr") == "ltr"


def test_localized_texts_fall_back_to_the_default_language():
    assert language.pick({"en": "Analytics", "fr": "Statistiques"}, "fr-CA", "en") == "Statistiques"
    assert language.pick({"en": "Analytics"}, "nl", "en") == "Analytics"
    assert language.pick({}, "nl", "en") is None

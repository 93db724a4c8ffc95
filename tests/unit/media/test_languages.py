"""CLDR language names and BCP 47 tag checks."""

import pytest

from workers.media.errors import MediaError
from workers.media.languages import (
    LanguageName,
    UnknownLanguageError,
    base_language,
    is_valid_tag,
    language_name,
)


@pytest.mark.parametrize(
    ("tag", "native", "english"),
    [
        ("ur", "اردو", "Urdu"),
        ("pa", "ਪੰਜਾਬੀ", "Punjabi"),
        ("pa-Guru", "ਪੰਜਾਬੀ", "Punjabi"),
        ("pa-Arab", "پنجابی", "Punjabi"),  # Shahmukhi: the name in the Arabic script
        ("pl", "Polski", "Polish"),  # CLDR's "polski", capitalised stand-alone
        ("ro", "Română", "Romanian"),
        ("lt", "Lietuvių", "Lithuanian"),
        ("zh-Hans", "中文", "Chinese"),
        ("sr-Latn", "Srpski", "Serbian"),
        ("sr-Cyrl", "Српски", "Serbian"),
        ("en-GB", "English", "English"),
        ("gu", "ગુજરાતી", "Gujarati"),
        ("so", "Soomaali", "Somali"),
        ("pa-Arab-PK", "پنجابی", "Punjabi"),
        ("de-CH-1996", "Deutsch", "German"),
    ],
)
def test_cldr_names(tag: str, native: str, english: str) -> None:
    name = language_name(tag)
    assert name == LanguageName(tag=tag, native=native, english=english)


def test_label_joins_native_and_english() -> None:
    assert language_name("ur").label == "اردو / Urdu"
    assert language_name("en").label == "English"


def test_override_splits_native_and_english() -> None:
    name = language_name("syl", "ꠍꠤꠟꠐꠤ / Sylheti")
    assert (name.native, name.english) == ("ꠍꠤꠟꠐꠤ", "Sylheti")
    assert language_name("phr", "Pahari").native == "Pahari"
    # an override also wins for a language CLDR knows
    assert language_name("pa", "Mirpuri / Mirpuri Punjabi").english == "Mirpuri Punjabi"


@pytest.mark.parametrize("tag", ["syl", "phr", "sgn-GB", "x-klingon", "i-klingon"])
def test_valid_but_unknown_to_cldr_needs_override(tag: str) -> None:
    assert is_valid_tag(tag)
    with pytest.raises(UnknownLanguageError) as info:
        language_name(tag)
    assert isinstance(info.value, MediaError)
    assert info.value.code == "unknown_language"
    assert tag in str(info.value) and "language_name" in str(info.value)


@pytest.mark.parametrize("tag", ["en_GB", "", "e", "en--GB", "toolonglanguage", "en-", "12",
                                 "en-GB-", "Urdu language", "pa-Guru-Arab-PK-"])
def test_malformed_tags(tag: str) -> None:
    assert not is_valid_tag(tag)
    with pytest.raises(UnknownLanguageError) as info:
        language_name(tag)
    assert info.value.code == "invalid_language"


@pytest.mark.parametrize("tag", ["en", "EN-gb", "zh-Hant-HK", "es-419", "sl-rozaj-biske",
                                 "en-GB-oed", "de-DE-u-co-phonebk", "en-x-private", "yue-HK",
                                 "zh-cmn-Hans-CN", "hy-Latn-IT-arevela"])
def test_well_formed_tags(tag: str) -> None:
    assert is_valid_tag(tag)


def test_base_language() -> None:
    assert base_language("pa-Arab-PK") == "pa"
    assert base_language("EN-gb") == "en"
    assert base_language("syl") == "syl"


def test_a_trailing_newline_is_not_part_of_a_tag() -> None:
    """The compile builds file names from tags (``subtitles/{lang}.srt``)."""
    from workers.media.languages import is_valid_tag

    assert is_valid_tag("ur") and is_valid_tag("pa-Arab")
    for bad in ("ur\n", "ur\r\n", "../ur", "ur/..", "ur ", "u\u202er"):
        assert not is_valid_tag(bad), repr(bad)


def test_one_language_match_with_one_fallback() -> None:
    from workers.media.languages import best_match, same_language

    assert same_language("en-GB", "en") and same_language("en", "EN_gb")
    assert same_language("pa-Arab", "pa") and same_language("ur", "UR")
    assert not same_language("pa-Arab", "pa-Guru")  # another script is another text
    assert not same_language("en-GB", "en-US")
    assert not same_language("ur", None) and not same_language("", "")
    assert best_match("en-GB", ["en", "en-GB"]) == "en-GB"  # exact first
    assert best_match("en-GB", ["pl", "en"]) == "en"
    assert best_match("pa-Guru", ["pa-Arab"]) is None

"""Font choice by the script of the text, checked against the fonts' character maps."""

from __future__ import annotations

import pytest
from fontTools.ttLib import TTCollection, TTFont

from workers.media import font_files, fonts
from workers.media.bidi import text_direction
from workers.media.errors import FontError
from workers.media.fonts import font_for, require_shaping
from workers.media.scripts import dominant_script

URDU = "گھر پر رہیں۔ این ایچ ایس کی حفاظت کریں۔"
ARABIC = "ابقوا في المنزل. احموا الخدمة الصحية."
GURMUKHI = "ਘਰ ਰਹੋ। ਜਾਨਾਂ ਬਚਾਓ।"
SHAHMUKHI = "گھر رہو۔ جاناں بچاؤ۔"
BENGALI = "বাড়িতে থাকুন। জীবন বাঁচান।"
CHINESE = "待在家里。拯救生命。"
LATIN = "Zostań w domu. Ratuj życie."

CASES = [
    # text, language, script, direction
    (URDU, "ur", "Arab", "rtl"),
    (ARABIC, "ar", "Arab", "rtl"),
    (GURMUKHI, "pa", "Guru", "ltr"),
    (SHAHMUKHI, "pa-Arab", "Arab", "rtl"),
    (BENGALI, "bn", "Beng", "ltr"),
    (CHINESE, "zh", "Hani", "ltr"),
    (LATIN, "pl", "Latn", "ltr"),
]


def _cmap(path: str, index: int) -> set[int]:
    if path.endswith(".ttc"):
        return set(TTCollection(path, lazy=True).fonts[index].getBestCmap())
    return set(TTFont(path, lazy=True).getBestCmap())


def test_shaping_engine_available():
    require_shaping()


@pytest.mark.parametrize(("text", "language", "script", "direction"), CASES)
def test_script_and_direction(text, language, script, direction):
    assert dominant_script(text) == script
    assert text_direction(text) == direction


def test_common_characters_do_not_vote():
    assert dominant_script("2020: «NHS» — ١٢٣ گھر") == "Arab"
    assert dominant_script("123 ...") == "Zyyy"
    assert text_direction("123 ... Urdu اردو") == "ltr"
    assert text_direction("«اردو» Urdu") == "rtl"


@pytest.mark.parametrize(("text", "language", "script", "direction"), CASES)
def test_font_covers_every_character(text, language, script, direction):
    choice = font_for(text, language)
    assert choice.script == script
    assert choice.direction == direction
    cmap = _cmap(choice.path, choice.index)
    assert {ord(c) for c in text if not c.isspace()} <= cmap


def test_urdu_gets_nastaliq_with_room_between_lines():
    choice = font_for(URDU, "ur")
    assert choice.family == "Noto Nastaliq Urdu"
    assert choice.line_height >= 1.9
    assert font_for(ARABIC, "ar").family != "Noto Nastaliq Urdu"


def test_punjabi_font_follows_the_script_not_the_language():
    assert "Gurmukhi" in font_for(GURMUKHI, "pa").family
    shahmukhi = font_for(SHAHMUKHI, "pa")
    assert shahmukhi.direction == "rtl"
    assert "Arab" in shahmukhi.family or "Nastaliq" in shahmukhi.family


@pytest.mark.parametrize(
    ("language", "family"),
    [("zh", "Noto Sans CJK SC"), ("zh-Hant", "Noto Sans CJK TC"), ("zh-HK", "Noto Sans CJK HK"),
     ("ja", "Noto Sans CJK JP")],
)
def test_cjk_face_follows_the_language(language, family):
    assert font_for(CHINESE, language).family == family


def test_scripts_outside_any_fixed_list():
    """Any script with a Noto font works: Syloti Nagri, Ol Chiki, Ethiopic, N'Ko."""
    for text, script in [("ꠍꠤꠟꠐꠤ", "Sylo"), ("ᱥᱟᱱᱛᱟᱲᱤ", "Olck"), ("ትግርኛ", "Ethi"), ("ߒߞߏ", "Nkoo")]:
        choice = font_for(text)
        assert choice.script == script
        assert {ord(c) for c in text} <= _cmap(choice.path, choice.index)
    assert font_for("ߒߞߏ").direction == "rtl"


def test_bold_variant():
    assert "Bold" in font_for("Imran Qureshi", bold=True).path


def test_no_font_installed_names_the_package(tmp_path, monkeypatch):
    empty = tmp_path / "fonts"
    empty.mkdir()
    monkeypatch.setattr(font_files, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setenv(font_files.FONT_DIRS_ENV, str(empty))
    with pytest.raises(FontError) as excinfo:
        font_for(BENGALI, "bn")
    message = str(excinfo.value)
    assert "fonts-noto-core" in message and "Bengali" in message and "bn" in message
    assert excinfo.value.code == "font_missing"
    with pytest.raises(FontError, match="fonts-noto-cjk"):
        font_for(CHINESE, "zh")


def test_extra_font_dir_is_searched(tmp_path, monkeypatch):
    real = font_for(GURMUKHI, "pa").path
    extra = tmp_path / "fonts"
    extra.mkdir()
    (extra / "NotoSansGurmukhi-Regular.ttf").symlink_to(real)
    monkeypatch.setattr(font_files, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setenv(font_files.FONT_DIRS_ENV, str(extra))
    assert font_for(GURMUKHI, "pa").path == str(extra / "NotoSansGurmukhi-Regular.ttf")
    with pytest.raises(FontError):
        font_for(BENGALI, "bn")


def test_missing_raqm_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(fonts.features, "check", lambda name: False)
    with pytest.raises(FontError, match="libraqm0"):
        require_shaping()


def test_mixed_scripts_get_a_font_per_script():
    """Mixed text no longer fails: the language's script sets the primary font and direction."""
    choice = font_for("Walsall for All — گھر پر رہیں", "en")
    assert choice.script == "Latn" and choice.direction == "ltr"
    assert choice.line_height >= 1.9  # room for the Nastaliq run
    urdu = font_for("walsall.gov.uk پر جائیں", "ur")
    assert urdu.family == "Noto Nastaliq Urdu" and urdu.direction == "rtl"


def test_mixed_scripts_missing_font_names_the_script(tmp_path, monkeypatch):
    """Only Noto Sans installed: the Bengali run has no font; the error says which and what."""
    latin = font_for("Stay at home", "en").path
    only_latin = tmp_path / "fonts"
    only_latin.mkdir()
    (only_latin / "NotoSans-Regular.ttf").symlink_to(latin)
    monkeypatch.setattr(font_files, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setenv(font_files.FONT_DIRS_ENV, str(only_latin))
    with pytest.raises(FontError) as excinfo:
        font_for("COVID-19 থেকে নিজেকে রক্ষা করুন", "bn")
    assert "Bengali" in str(excinfo.value) and "fonts-noto-core" in str(excinfo.value)
    with pytest.raises(FontError, match="fonts-noto-color-emoji"):
        font_for("Stay at home 😷", "en")


def test_old_italic_script_is_not_taken_for_an_italic_style():
    choice = font_for("\U00010300\U00010301")  # OLD ITALIC LETTER A, BE
    assert choice.family == "Noto Sans Old Italic"


def test_fallback_reaches_any_installed_font(tmp_path, monkeypatch):
    """A character neither the script's font nor any Noto family has is drawn by whatever
    installed font has it (here DejaVu Sans, found through fontconfig's character sets)."""
    from workers.media.runs import text_runs

    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / "NotoSans-Regular.ttf").symlink_to(font_for("Stay at home", "en").path)
    (folder / "DejaVuSans.ttf").symlink_to("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    monkeypatch.setattr(font_files, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setenv(font_files.FONT_DIRS_ENV, str(folder))
    text = "Stay at home \u263a now"  # WHITE SMILING FACE: not in Noto Sans
    runs = text_runs(text, "en", font=font_for(text, "en"))
    assert [(r.text.strip(), r.font.family) for r in runs] == [
        ("Stay at home", "Noto Sans"), ("\u263a", "DejaVu Sans"), ("now", "Noto Sans")]

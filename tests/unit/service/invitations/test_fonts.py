"""Every page language has its Noto font on this machine and declared in fonts.css."""

from __future__ import annotations

from pathlib import Path

from fontTools.ttLib import TTFont

from service import i18n
from service.invitations.fonts import font_files, missing_fonts

FONTS_CSS = Path(__file__).resolve().parents[4] / "service/web/static/leader/fonts.css"

SAMPLES = {"ur": "اردو", "ar": "العربية", "pa": "ਪੰਜਾਬੀ", "bn": "বাংলা", "gu": "ગુજરાતી",
           "pl": "Zażółć", "ro": "Română", "so": "Soomaali", "en": "English"}


def test_fonts_are_installed_and_cover_the_native_name() -> None:
    assert missing_fonts() == [], "apt-get install fonts-noto-core fonts-noto-extra"
    files = font_files()
    for code, lang in i18n.languages().items():
        cmap = TTFont(str(files[lang.font_file]), lazy=True).getBestCmap()
        for ch in SAMPLES[code]:
            assert ord(ch) in cmap, f"{lang.font_file} cannot draw {ch!r} for {code}"


def test_fonts_css_declares_every_family_and_language() -> None:
    css = FONTS_CSS.read_text()
    for lang in i18n.languages().values():
        assert f'font-family: "{lang.font_family}"' in css
        assert f"/leader-fonts/{lang.font_file}" in css
        assert f":lang({lang.code})" in css

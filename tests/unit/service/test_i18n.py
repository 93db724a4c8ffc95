"""Locale negotiation, direction and translations of the leader pages."""

from __future__ import annotations

from service import i18n


def test_supported_languages_have_names_direction_and_font() -> None:
    codes = i18n.supported_locales()
    assert {"en", "ur", "ar", "pa", "bn", "gu", "pl", "ro", "so"} <= set(codes)
    for lang in i18n.languages().values():
        assert lang.direction in ("ltr", "rtl")
        assert lang.font_family.startswith("Noto")
        assert lang.native_name


def test_direction() -> None:
    assert i18n.direction("ur") == "rtl"
    assert i18n.direction("ar-EG") == "rtl"
    assert i18n.direction("pl") == "ltr"
    assert i18n.direction("pa") == "ltr"
    assert i18n.direction("xx") == "ltr"


def test_negotiation_order() -> None:
    # An explicit choice wins, then the invite's language, then the browser's.
    assert i18n.negotiate("ur", "pl", "ar") == "pl"
    assert i18n.negotiate("ur", None, "ar") == "ur"
    assert i18n.negotiate(None, None, "fr-FR, ro;q=0.8, en;q=0.5") == "ro"
    assert i18n.negotiate(None, None, "en;q=0.1, bn;q=0.9") == "bn"
    assert i18n.negotiate("xx", "zz", None) == "en"
    assert i18n.negotiate("ur-PK") == "ur"
    # Shahmukhi Punjabi has no catalog: it must not silently get Gurmukhi.
    assert i18n.match_locale("pa-Arab") is None
    assert i18n.match_locale("pa-Guru-IN") == "pa"


def test_translations_and_placeholders() -> None:
    ur = i18n.translator("ur")
    assert ur.direction == "rtl"
    text = ur.gettext("Hello, %(name)s", name="Amina")
    assert "Amina" in text and text != "Hello, Amina"
    assert i18n.translator("en").gettext("Stop") == "Stop"
    assert i18n.translator("pl").gettext("Stop") == "Zatrzymaj"


def test_coded_messages_are_translated() -> None:
    pl = i18n.translator("pl")
    assert i18n.message_for("invite.expired", i18n.ERRORS, pl).startswith("Ten link wygasł")
    assert i18n.message_for("no.such.code", i18n.ERRORS, pl) == pl.gettext(i18n.ERRORS["server"])
    table = i18n.translated_table(i18n.ERRORS, i18n.translator("ar"))
    assert set(table) == set(i18n.ERRORS)
    assert all(table[c] != i18n.ERRORS[c] for c in table)


def test_jinja_wiring() -> None:
    from jinja2 import Environment

    env = Environment(autoescape=True)
    i18n.install_jinja_i18n(env)
    template = env.from_string("{% trans %}Stop{% endtrans %} {{ _('Back') }}")
    assert template.render() == "Stop Back"
    ur = i18n.translator("ur")
    assert template.render(gettext=ur.gettext, _=ur.gettext) == "روکیں واپس"

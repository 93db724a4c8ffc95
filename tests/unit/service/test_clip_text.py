"""The one rule for a clip's text: own text, approved translations, overrides, cues."""

from __future__ import annotations

from service.clips.text import CampaignText, clip_text

SCRIPT = ("Stay at home.", "Protect the NHS.")
URDU = {0: "گھر پر رہیں۔", 1: "این ایچ ایس کی حفاظت کریں۔"}
WELSH = {0: "Arhoswch gartref.", 1: "Diogelwch y GIG."}


def _campaign(translation_language: str = "cy", **approved: dict[int, str]) -> CampaignText:
    return CampaignText(language="en", translation_language=translation_language,
                        script=SCRIPT, approved={"ur": URDU, "cy": WELSH, **approved})


def test_native_line_is_the_approved_translation_or_the_script() -> None:
    shown = clip_text(_campaign(), "ur")
    assert shown.native == tuple(URDU.values())
    assert shown.translation == tuple(WELSH.values()) and shown.translation_language == "cy"
    assert clip_text(_campaign(), "en-GB").native == SCRIPT  # regional tag -> its base
    assert clip_text(_campaign(), "ur-PK").native == tuple(URDU.values())


def test_staff_overrides_win_and_a_clip_in_the_translation_language_has_no_line() -> None:
    shown = clip_text(_campaign(), "ur", sentences=["ایک", "دو"], translation=["Un.", "Dau."])
    assert shown.native == ("ایک", "دو") and shown.translation == ("Un.", "Dau.")
    welsh = clip_text(_campaign(), "cy", translation=["ignored", "ignored"])
    assert welsh.native == tuple(WELSH.values())
    assert welsh.translation is None and welsh.translation_language is None


def test_missing_texts_are_reported_not_invented() -> None:
    half = _campaign(pl={0: "Zostań w domu."})
    assert clip_text(half, "pl").native is None  # half a message is no message
    assert clip_text(_campaign("pl"), "ur").translation_missing
    assert not clip_text(_campaign("pl"), "ur", translation=["A.", "B."]).translation_missing
    assert clip_text(_campaign(), "pa-Arab", ).native is None  # no fallback across scripts


def test_manual_timing_becomes_one_cue_per_sentence() -> None:
    shown = clip_text(_campaign(), "ur", cue_times=[(0.5, 1.5)])
    assert shown.cues is not None and len(shown.cues) == 1
    assert shown.cues[0].text == " ".join(URDU.values())  # the rest joins the last cue
    assert clip_text(_campaign(), "ur").cues is None  # timed from speech

"""The campaign file: a good one loads into dataclasses, every mistake is named by line/clip."""

import shutil
from pathlib import Path

import pytest

from workers.media.campaign import Campaign, Card
from workers.media.campaign_file import CampaignError, CampaignFile, load_campaign
from workers.media.style import Brand

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "stay-at-home"

PL_PO = """\
msgid ""
msgstr ""
"Language: pl\\n"
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Stay at home."
msgstr "Zostań w domu."

msgid "Protect the NHS."
msgstr "Chroń NHS."

msgid "Save lives."
msgstr "Ratuj życie."
"""

GOOD = """\
title: Stay at Home
language: en
translation_language: en
script: ["Stay at home.", "Protect the NHS.", "Save lives."]
intro: {text: "Walsall for All", duration: 3, logo: logo.png}
outro: {text: "walsall.gov.uk/coronavirus", duration: 4.5}
brand: {background: "#1D3557", text: "#ffffff", accent: "#f1c40f"}
formats: [landscape, portrait]
loudness: -14
clips:
  - file: clips/ur.mp4
    language: ur
    speaker: Imran Qureshi
    role: Imam, Jamia Mosque
    text: ["گھر پر رہیں۔", "این ایچ ایس کی حفاظت کریں۔", "جانیں بچائیں۔"]
  - file: clips/pl.webm
    language: pl
    speaker: Anna Nowak
    role: Polish Community Centre
    catalog: translations/pl.po
    trim: {start: 0.4, end: 7.9}
    captions: pl.srt
  - file: clips/syl.mp4
    language: syl
    language_name: ꠍꠤꠟꠐꠤ / Sylheti
    speaker: Abdul Karim
    role: Community elder
    text: ["ঘরো থাকইন।", "এনএইচএস রে বাঁচাইন।", "জান বাঁচাইন।"]
"""


def write(tmp_path: Path, text: str, files: tuple[str, ...] = (
        "clips/ur.mp4", "clips/pl.webm", "clips/syl.mp4", "logo.png", "pl.srt")) -> Path:
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(
            b"1\n00:00:01,000 --> 00:00:02,500\nZostan w domu.\n" if rel.endswith(".srt")
            else b"x")
    (tmp_path / "translations").mkdir(exist_ok=True)
    (tmp_path / "translations" / "pl.po").write_text(PL_PO, encoding="utf-8")
    path = tmp_path / "campaign.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(CampaignError) as info:
        load_campaign(path)
    assert info.value.code == "invalid_campaign"
    text = str(info.value)
    found = [str(p) for p in info.value.problems]
    for p in found:  # the error message lists every problem
        assert p in text
    return found


def test_good_campaign_loads(tmp_path: Path) -> None:
    f = load_campaign(write(tmp_path, GOOD))
    c = f.campaign
    assert isinstance(f, CampaignFile) and isinstance(c, Campaign)
    assert c.title == "Stay at Home" and c.language == "en" and c.translation_language == "en"
    assert f.script == ("Stay at home.", "Protect the NHS.", "Save lives.")
    assert f.translation == f.script
    assert c.intro == Card("Walsall for All", 3.0, (tmp_path / "logo.png").resolve())
    assert c.outro == Card("walsall.gov.uk/coronavirus", 4.5, None)
    assert c.brand == Brand("#1d3557", "#ffffff", "#f1c40f")
    assert c.formats == ("landscape", "portrait")
    assert c.loudness_target == -14.0
    assert c.warnings == ()
    ur, pl, syl = c.clips
    assert (ur.index, ur.language, ur.speaker, ur.role) == (1, "ur", "Imran Qureshi",
                                                           "Imam, Jamia Mosque")
    assert ur.file == (tmp_path / "clips/ur.mp4").resolve() and f.lines[1] == 11
    assert pl.sentences == ("Zostań w domu.", "Chroń NHS.", "Ratuj życie.")
    assert pl.trim == (0.4, 7.9) and f.captions[2] == (tmp_path / "pl.srt").resolve()
    assert pl.subtitles is not None and [e.text for e in pl.subtitles] == ["Zostan w domu."]
    assert syl.language_name == "ꠍꠤꠟꠐꠤ / Sylheti" and len(syl.sentences) == 3
    assert ur.trim is None and ur.subtitles is None and 1 not in f.captions
    # the campaign's one translation line, on every clip not in the translation language
    assert ur.translation == pl.translation == f.translation


def test_defaults(tmp_path: Path) -> None:
    text = """\
title: T
language: en
script: [One., Two.]
clips:
  - {file: a.mp4, language: pl, speaker: A, role: "", text: [Raz., Dwa.]}
  - {file: b.mp4, language: en-GB, speaker: B, role: R}
"""
    f = load_campaign(write(tmp_path, text, ("a.mp4", "b.mp4")))
    c = f.campaign
    assert c.formats == ("landscape",) and c.brand == Brand() and c.loudness_target == -16.0
    assert c.intro is None and c.outro is None
    assert c.clips[0].role == ""
    assert c.clips[1].sentences == ("One.", "Two.")  # a clip in the source language


def test_example_campaign_is_valid(tmp_path: Path) -> None:
    dest = tmp_path / "ex"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns("clips", "out", "*.png"))
    (dest / "logo.png").write_bytes(b"x")
    (dest / "clips").mkdir()
    for rel in ("ur.mp4", "pl.webm", "pa.mov", "bn.mp4", "ro.webm", "lt.mp4"):
        (dest / "clips" / rel).write_bytes(b"x")
    f = load_campaign(dest / "campaign.yaml")
    c = f.campaign
    assert [clip.language for clip in c.clips] == ["ur", "pl", "pa-Guru", "bn", "ro", "lt"]
    assert c.clips[1].sentences == ("Zostań w domu.", "Chroń NHS.", "Ratuj życie.")
    assert all(len(clip.sentences) == 3 for clip in c.clips)
    assert c.warnings == ()


def test_sentence_count_names_line_and_clip(tmp_path: Path) -> None:
    text = GOOD.replace('script: ["Stay at home.", "Protect the NHS.", "Save lives."]',
                        'script: ["Stay at home.", "Protect the NHS.", "Save lives.", "Now."]')
    text = text.replace("catalog: translations/pl.po",
                        'text: ["Zostań w domu.", "Chroń NHS.", "Ratuj życie."]')
    found = problems(write(tmp_path, text))
    assert "campaign.yaml line 20, clip 2 (pl, Anna Nowak): 3 sentences, but the script has 4" \
        in found
    assert any(p.startswith("campaign.yaml line 15, clip 1 (ur, Imran Qureshi): 3 sentences")
               for p in found)


def test_bad_yaml_names_line_and_column(tmp_path: Path) -> None:
    text = GOOD.replace("  - file: clips/pl.webm", "  - file: clips/pl.webm\n   bad: [")
    (found,) = problems(write(tmp_path, text))
    assert "not valid YAML" in found and "line 1" in found and "column" in found


def test_not_a_mapping(tmp_path: Path) -> None:
    (found,) = problems(write(tmp_path, "- just\n- a list\n"))
    assert "must be a mapping" in found


def test_all_problems_are_collected(tmp_path: Path) -> None:
    text = """\
titel: Typo
language: en_GB
script: ["One.", ""]
formats: [landscape, widescreen]
brand: {background: "#fff", text: 12}
intro: {text: Hi, duration: 20, logo: missing.png}
outro: {duration: 3}
loudness: -3
clips:
  - file: clips/missing.mp4
    language: xx
    speaker: Someone
    role: Somewhere
    text: [Jeden., Dwa.]
    trim: {start: 5, end: 2}
    captions: notes.txt
  - language: pl
    speaker: 42
    catalog: nowhere.po
  - "not a mapping"
"""
    found = problems(write(tmp_path, text, ("notes.txt",)))
    expect = [
        "line 1: the campaign has no 'title'",
        "line 2: 'en_GB' is not a valid BCP 47 language tag (use '-' between subtags",
        "line 3: sentence 2 of the script is empty",
        "line 4: unknown format 'widescreen'",
        "line 5: brand background colour '#fff' must be written #rrggbb",
        "line 5: brand text colour 12 must be written #rrggbb",
        "line 6: intro duration is 20 s; it must be between 1 and 15 s",
        "line 6: intro logo file 'missing.png' does not exist",
        "line 7: outro has no 'text'",
        "line 8: loudness -3 LUFS is out of range",
        "line 10, clip 1 (xx, Someone): clip file 'clips/missing.mp4' does not exist",
        "line 11, clip 1 (xx, Someone): the language code 'xx' is not known to CLDR",
        "line 15, clip 1 (xx, Someone): trim end 2 must be after start 5",
        "line 16, clip 1 (xx, Someone): captions file 'notes.txt' must be .srt or .vtt",
        "line 17, clip 2 (pl): the clip has no 'file'",
        "line 18, clip 2 (pl): 'speaker' must be text, not a number (42)",
        "line 17, clip 2 (pl): the clip has no 'role'",
        "line 19, clip 2 (pl): catalog file 'nowhere.po' does not exist",
        "line 20, clip 3: each clip must be a mapping",
    ]
    for e in expect:
        assert any(e in p for p in found), f"missing: {e}\nfound:\n" + "\n".join(found)
    assert all(p.startswith("campaign.yaml line ") for p in found)


def test_missing_required_keys(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "title: X\n"))
    for key in ("language", "script", "clips"):
        assert any(f"has no '{key}'" in p for p in found), found


def test_clip_needs_text_or_catalog_not_both(tmp_path: Path) -> None:
    text = GOOD.replace("    catalog: translations/pl.po",
                        "    catalog: translations/pl.po\n    text: [a, b, c]")
    ur_text = '    text: ["گھر پر رہیں۔", "این ایچ ایس کی حفاظت کریں۔", "جانیں بچائیں۔"]\n'
    text = text.replace(ur_text, "")
    found = problems(write(tmp_path, text))
    assert any("clip 1 (ur, Imran Qureshi): the clip has no 'text'" in p for p in found)
    assert any("clip 2 (pl, Anna Nowak): give the clip's text either as 'text' or as 'catalog'"
               in p for p in found)


def test_language_name_makes_unknown_tag_acceptable(tmp_path: Path) -> None:
    text = GOOD.replace("    language_name: ꠍꠤꠟꠐꠤ / Sylheti\n", "")
    (found,) = problems(write(tmp_path, text))
    assert "line 24, clip 3 (syl, Abdul Karim): the language code 'syl' is not known" in found


@pytest.mark.parametrize(
    ("po_body", "message"),
    [
        ('msgid "Stay at home."\nmsgstr "Zostań w domu."\n\nmsgid "Save lives."\n'
         'msgstr "Ratuj życie."\n', "has no msgid for sentence 2 ('Protect the NHS.')"),
        ('msgid "Stay at home."\nmsgstr "Zostań w domu."\n\nmsgid "Protect the NHS."\n'
         'msgstr ""\n\nmsgid "Save lives."\nmsgstr "Ratuj życie."\n',
         "has an empty translation for sentence 2 ('Protect the NHS.')"),
        ('msgid "Stay at home."\nmsgstr "Zostań w domu."\n\n#, fuzzy\nmsgid "Protect the NHS."\n'
         'msgstr "Chroń NHS."\n\nmsgid "Save lives."\nmsgstr "Ratuj życie."\n',
         "marks the translation of sentence 2 ('Protect the NHS.') as fuzzy"),
        ("this is not a po file\n", "is not a readable gettext .po file"),
    ],
)
def test_catalog_problems(tmp_path: Path, po_body: str, message: str) -> None:
    path = write(tmp_path, GOOD)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (tmp_path / "translations" / "pl.po").write_text(header + po_body, encoding="utf-8")
    found = problems(path)
    assert any(p.startswith("campaign.yaml line 20, clip 2 (pl, Anna Nowak): catalog "
                            "'translations/pl.po'") and message in p for p in found), found


def test_unknown_keys_are_warnings(tmp_path: Path) -> None:
    text = GOOD.replace("title: Stay at Home", "title: Stay at Home\nsubtitle: x").replace(
        "    speaker: Anna Nowak", "    speaker: Anna Nowak\n    speeker: typo")
    f = load_campaign(write(tmp_path, text))
    c = f.campaign
    assert any("line 2: unknown key 'subtitle'" in w for w in c.warnings)
    assert any("clip 2 (pl, Anna Nowak): unknown key 'speeker' in the clip is ignored; did you "
               "mean 'speaker'?" in w for w in c.warnings)


def test_norwegian_is_not_false(tmp_path: Path) -> None:
    text = GOOD.replace("    language: ur\n", "    language: no\n")
    f = load_campaign(write(tmp_path, text))
    c = f.campaign
    assert c.clips[0].language == "no"


def test_translation_language_from_translations_key(tmp_path: Path) -> None:
    text = GOOD.replace("translation_language: en", "translation_language: cy").replace(
        "loudness: -14",
        'loudness: -14\ntranslations:\n  cy: ["Arhoswch gartref.", "Diogelwch y GIG.", '
        '"Achubwch fywydau."]')
    f = load_campaign(write(tmp_path, text))
    assert f.translation == ("Arhoswch gartref.", "Diogelwch y GIG.", "Achubwch fywydau.")


def test_translation_language_from_po_or_clip(tmp_path: Path) -> None:
    text = GOOD.replace("translation_language: en", "translation_language: pl").replace(
        "loudness: -14", "loudness: -14\ntranslations: {pl: translations/pl.po}")
    f = load_campaign(write(tmp_path, text))
    c = f.campaign
    assert f.translation == ("Zostań w domu.", "Chroń NHS.", "Ratuj życie.")
    text = GOOD.replace("translation_language: en", "translation_language: ur")
    f = load_campaign(write(tmp_path, text))
    c = f.campaign
    assert f.translation == c.clips[0].sentences


def test_translation_language_without_text_is_an_error(tmp_path: Path) -> None:
    text = GOOD.replace("translation_language: en", "translation_language: fr")
    (found,) = problems(write(tmp_path, text))
    assert found.startswith("campaign.yaml line 3: translation_language is 'fr', but no clip")


def test_trim_needs_numbers(tmp_path: Path) -> None:
    text = GOOD.replace("trim: {start: 0.4, end: 7.9}", "trim: {start: soon, end: 7.9}")
    (found,) = problems(write(tmp_path, text))
    assert "line 21, clip 2 (pl, Anna Nowak): 'start' must be a number" in found


def test_missing_campaign_file(tmp_path: Path) -> None:
    from workers.media.errors import MediaError

    with pytest.raises(MediaError) as info:
        load_campaign(tmp_path / "nope.yaml")
    assert "does not exist" in str(info.value) and "nope.yaml" in str(info.value)

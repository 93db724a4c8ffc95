"""Caption timing rules, SRT/VTT parsing and writing (pure Python, no media)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
import regex

from workers.media.captions import (
    Cue,
    SubtitleEntry,
    cues_from_subtitles,
    parse_srt,
    parse_subtitles,
    parse_vtt,
    split_to_fit,
    spoken_length,
    time_cues,
    write_srt,
    write_vtt,
)
from workers.media.errors import MediaError
from workers.media.text import grapheme_len

FPS = 30
WIDTH = 42


def wrap(text: str, width: int = WIDTH) -> list[str]:
    """Greedy wrap at ``width`` grapheme clusters; words longer than a line are broken."""
    lines: list[str] = []
    line = ""
    tokens = text.split() if " " in text.strip() else regex.findall(r"\X", text)
    joiner = " " if " " in text.strip() else ""
    for word in tokens:
        while grapheme_len(word) > width:
            if line:
                lines.append(line)
                line = ""
            gs = regex.findall(r"\X", word)
            lines.append("".join(gs[:width]))
            word = "".join(gs[width:])
        candidate = f"{line}{joiner}{word}" if line else word
        if grapheme_len(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def on_frames(t: float) -> bool:
    return abs(t * FPS - round(t * FPS)) < 1e-6


def check_rules(cues: list[Cue], n_sentences: int, duration: float, *, strict_min: bool = True):
    """The rules every timed cue list obeys."""
    assert cues, "no cues"
    order = []
    for c in cues:
        for s in c.sentences:
            if not order or order[-1] != s:
                order.append(s)
    assert order == list(range(n_sentences)), f"sentences out of order or missing: {order}"
    for c in cues:
        assert on_frames(c.start) and on_frames(c.end), c
        assert 0 <= c.start < c.end <= duration + 1e-9, c
        assert c.end - c.start <= 7.0 + 1e-9, c
        if strict_min and duration >= 1.0:
            assert c.end - c.start >= 1.0 - 1e-9, c
        assert len(c.native_lines) <= 2, c
        assert len(c.translation_lines) <= 2, c
        assert all(grapheme_len(line) <= WIDTH for line in c.native_lines + c.translation_lines)
    for a, b in itertools.pairwise(cues):
        assert round((b.start - a.end) * FPS) >= 2, (a, b)


# ----------------------------------------------------------------------------- basics

SCRIPT = ["Stay at home.", "Protect the NHS.", "Save lives."]


def test_sentences_follow_speech_regions_and_snap_to_pauses():
    speech = [(0.5, 1.4), (1.9, 3.0), (3.6, 4.4)]
    cues = time_cues(SCRIPT, None, speech, 5.0, wrap_native=wrap)
    assert [c.sentences for c in cues] == [(0,), (1,), (2,)]
    # Each cue shows ~0.15 s before its speech and holds ~0.3 s after, on frames.
    assert cues[0].start == pytest.approx(0.35, abs=1 / FPS)
    assert cues[1].start == pytest.approx(1.75, abs=1 / FPS)
    assert cues[2].start == pytest.approx(3.45, abs=1 / FPS)
    assert cues[2].end == pytest.approx(4.7, abs=1 / FPS)
    assert all(c.translation_lines == () for c in cues)
    check_rules(cues, 3, 5.0)


def test_boundaries_snap_to_the_nearest_pause_not_the_proportional_point():
    # Sentence 0 is much longer in text, but the speaker pauses at 1.2 s.
    native = ["Please stay at home today.", "Thank you all very much for listening."]
    speech = [(0.2, 1.2), (1.6, 4.0)]
    cues = time_cues(native, None, speech, 4.5, wrap_native=wrap)
    assert len(cues) == 2
    assert cues[0].end <= 1.6
    assert cues[1].start == pytest.approx(1.45, abs=1 / FPS)


def test_translation_lines_and_identical_translation():
    tr = ["Zostań w domu.", "Chroń NHS.", "Ratuj życie."]
    speech = [(0.3, 1.5), (2.0, 3.2), (3.7, 5.0)]
    cues = time_cues(tr, SCRIPT, speech, 5.5, wrap_native=wrap)
    assert [c.translation_lines for c in cues] == [("Stay at home.",), ("Protect the NHS.",),
                                                   ("Save lives.",)]
    same = time_cues(SCRIPT, list(SCRIPT), speech, 5.5, wrap_native=wrap)
    assert all(c.translation_lines == () for c in same)


def test_translation_must_match_sentence_count():
    with pytest.raises(ValueError):
        time_cues(SCRIPT, ["one"], [(0, 3)], 3.0, wrap_native=wrap)


def test_short_sentences_are_merged_rather_than_flashed():
    native = ["Yes.", "No.", "Maybe later, but we will see how it goes."]
    speech = [(0.0, 0.35), (0.6, 0.9), (1.1, 4.0)]
    cues = time_cues(native, None, speech, 4.0, wrap_native=wrap)
    assert cues[0].sentences[:2] == (0, 1)
    check_rules(cues, 3, 4.0)


def test_short_sentence_with_silence_around_is_stretched_not_merged():
    native = ["Yes.", "We will get through this together."]
    speech = [(1.0, 1.3), (3.0, 5.0)]
    cues = time_cues(native, None, speech, 6.0, wrap_native=wrap)
    assert [c.sentences for c in cues] == [(0,), (1,)]
    assert cues[0].end - cues[0].start >= 1.0
    check_rules(cues, 2, 6.0)


def test_long_sentence_is_split_into_cues_that_fit_two_lines():
    long = ("If you have a high temperature or a new continuous cough you must stay at home "
            "for at least seven days and your household for fourteen days from the start.")
    tr = ("Jeśli masz wysoką temperaturę lub nowy uporczywy kaszel, musisz zostać w domu "
          "przez co najmniej siedem dni, a twoje gospodarstwo przez czternaście dni.")
    speech = [(0.4, 9.5)]
    cues = time_cues([long], [tr], speech, 10.0, wrap_native=wrap)
    assert len(cues) >= 2
    assert all(c.sentences == (0,) for c in cues)
    assert " ".join(" ".join(c.native_lines) for c in cues).split() == long.split()
    assert " ".join(" ".join(c.translation_lines) for c in cues).split() == tr.split()
    check_rules(cues, 1, 10.0)


def test_sentence_spoken_longer_than_max_cue_is_split_even_when_lines_fit():
    text = "Stay home, protect the health service, save lives."
    cues = time_cues([text], None, [(0.0, 12.0)], 12.0, wrap_native=wrap)
    assert len(cues) >= 2
    check_rules(cues, 1, 12.0)


def test_text_without_spaces_is_split_at_graphemes():
    zh = ("如果您有高烧或新的持续咳嗽症状，您必须在家中隔离至少七天，"
          "您的家人必须从症状开始之日起隔离十四天。")
    cues = time_cues([zh], None, [(0.2, 8.0)], 8.5, wrap_native=lambda t: wrap(t, 20))
    assert len(cues) >= 2
    assert "".join("".join(c.native_lines) for c in cues) == zh
    assert all(len(c.native_lines) <= 2 for c in cues)


def test_indic_conjuncts_are_never_split():
    hi = ("कृपया घर पर रहें क्योंकि स्वास्थ्य सेवा की रक्षा करना और जीवन बचाना "
          "हमारी ज़िम्मेदारी है और हम सब साथ हैं।")
    cues = time_cues([hi], None, [(0.0, 9.0)], 9.0, wrap_native=wrap)
    clusters = set(regex.findall(r"\X", hi))
    for c in cues:
        for line in c.native_lines:
            assert set(regex.findall(r"\X", line)) <= clusters | {" "}
    assert " ".join(" ".join(c.native_lines) for c in cues).split() == hi.split()


def test_no_speech_found_spreads_over_the_whole_clip():
    cues = time_cues(SCRIPT, None, [], 6.0, wrap_native=wrap)
    check_rules(cues, 3, 6.0)
    assert cues[0].start == 0.0


def test_clip_shorter_than_a_second():
    cues = time_cues(["Hi."], None, [(0.1, 0.5)], 0.8, wrap_native=wrap)
    assert len(cues) == 1
    assert 0 <= cues[0].start < cues[0].end <= 0.8 + 1e-9
    assert on_frames(cues[0].end)


def test_spoken_length_counts_letters_not_spaces_or_punctuation():
    assert spoken_length("Stay at home.") == 10
    assert spoken_length("گھر پر رہیں۔") == 9
    # Extended grapheme clusters keep an Indic conjunct together (Unicode 15.1 rule GB9c).
    assert spoken_length("क्या") == grapheme_len("क्या") == 1


def test_split_to_fit_prefers_breaks_after_punctuation():
    text = "Stay at home today, protect the health service now"
    parts = split_to_fit(text, "", lambda n, t: len(n) <= 35)
    assert parts[0][0].endswith(",")


# ----------------------------------------------------------------------------- properties

WORDS = [
    "stay", "home", "protect", "the", "health", "service", "save", "lives", "wash", "your",
    "hands", "keep", "distance", "together", "community", "mosque", "gurdwara", "church",
    "temple", "neighbours", "elders",
]


def random_sentence(rng: random.Random, n: int | None = None) -> str:
    n = n or rng.choice([1, 1, 2, 3, 5, 8, 12, 20, 30])
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


@pytest.mark.parametrize("seed", range(300))
def test_timing_rules_hold_for_random_scripts(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 8)
    native = [random_sentence(rng) for _ in range(n)]
    # Translations run 0.7-1.5 times as long as the native text, as real ones do.
    translation = [random_sentence(rng, max(1, round(len(s.split()) * rng.uniform(0.7, 1.5))))
                   for s in native] if rng.random() < 0.6 else None
    # Speech at a realistic 11-16 letters a second, in phrases with pauses.
    rate = rng.uniform(11, 16)
    t = rng.uniform(0.0, 0.8)
    speech = []
    for s in native:
        length = max(0.25, spoken_length(s) / rate)
        if rng.random() < 0.3 and length > 1.5:  # a pause inside the sentence
            cut = rng.uniform(0.3, length - 0.3)
            speech.append((t, t + cut))
            t += cut + rng.uniform(0.2, 0.5)
            length -= cut
        speech.append((t, t + length))
        t += length + rng.uniform(0.2, 0.9)
    duration = t + rng.uniform(0.0, 0.8)
    cues = time_cues(native, translation, speech, duration, wrap_native=wrap)
    check_rules(cues, n, duration)
    # Every word appears once, in order.
    shown = " ".join(" ".join(c.native_lines) for c in cues).split()
    assert shown == " ".join(native).split()
    if translation:
        shown_tr = " ".join(" ".join(c.translation_lines) for c in cues).split()
        assert shown_tr == " ".join(translation).split()


@pytest.mark.parametrize("seed", range(100))
def test_structure_holds_even_for_wildly_mismatched_translations(seed):
    """Translations of any length: maybe some cues cannot reach 1 s, but nothing breaks."""
    rng = random.Random(5000 + seed)
    n = rng.randint(1, 6)
    native = [random_sentence(rng) for _ in range(n)]
    translation = [random_sentence(rng) for _ in range(n)]
    speech = [(0.3, 0.3 + rng.uniform(1, 25))]
    duration = speech[0][1] + rng.uniform(0, 1)
    cues = time_cues(native, translation, speech, duration, wrap_native=wrap)
    check_rules(cues, n, duration, strict_min=False)
    assert " ".join(" ".join(c.native_lines) for c in cues).split() == " ".join(native).split()
    shown_tr = " ".join(" ".join(c.translation_lines) for c in cues).split()
    assert shown_tr == " ".join(translation).split()


@pytest.mark.parametrize("seed", range(100))
def test_cues_stay_near_their_speech(seed):
    """With one region per sentence, each sentence's cue covers most of its own speech."""
    rng = random.Random(1000 + seed)
    n = rng.randint(2, 6)
    native = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) for _ in range(n)]
    t = 0.5
    speech = []
    for s in native:
        length = spoken_length(s) / rng.uniform(10, 18)
        speech.append((t, t + length))
        t += length + rng.uniform(0.4, 1.0)
    cues = time_cues(native, None, speech, t + 0.5, wrap_native=wrap)
    for c in cues:
        if len(c.sentences) == 1:
            a, b = speech[c.sentences[0]]
            overlap = min(b, c.end) - max(a, c.start)
            assert overlap >= 0.6 * min(b - a, c.end - c.start)


# ----------------------------------------------------------------------------- SRT / VTT

SRT = (
    "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Zostań</i> w domu.\r\n\r\n"
    "2\r\n00:00:03,000 --> 00:00:05,250\r\nChroń NHS,\r\nratuj życie.\r\n"
)

VTT = """WEBVTT - Polish captions
Kind: captions

NOTE made by hand
with two lines

STYLE
::cue { color: yellow }

intro
00:01.000 --> 00:02.500 align:start line:90%
<v Anna>Zostań &amp; w domu.</v>

00:00:03.000 --> 00:00:05.250
Chroń NHS,
ratuj życie."""


def test_parse_srt_tolerates_bom_crlf_tags_and_no_final_blank_line():
    entries = parse_srt(SRT)
    assert entries == [
        SubtitleEntry(1.0, 2.5, "Zostań w domu."),
        SubtitleEntry(3.0, 5.25, "Chroń NHS,\nratuj życie."),
    ]


def test_parse_vtt_skips_header_note_style_and_settings():
    entries = parse_vtt(VTT)
    assert entries == [
        SubtitleEntry(1.0, 2.5, "Zostań & w domu."),
        SubtitleEntry(3.0, 5.25, "Chroń NHS,\nratuj życie."),
    ]


@pytest.mark.parametrize("text,line", [
    ("1\n00:00:01,000 -> 00:00:02,000\nHello\n", 2),
    ("1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\nnonsense\nmore\n", 6),
    ("1\n00:00:03,000 --> 00:00:02,000\nBackwards\n", 2),
])
def test_malformed_srt_names_file_and_line(text, line):
    with pytest.raises(MediaError) as err:
        parse_srt(text, source="pl.srt")
    assert err.value.code == "bad_subtitles"
    assert "pl.srt" in str(err.value) and f"line {line}" in str(err.value)


def test_vtt_without_header_is_rejected():
    with pytest.raises(MediaError) as err:
        parse_vtt("00:01.000 --> 00:02.000\nHi\n", source="x.vtt")
    assert err.value.code == "bad_subtitles" and "line 1" in str(err.value)


def test_parse_subtitles_by_extension_and_content(tmp_path: Path):
    (tmp_path / "a.srt").write_bytes(SRT.encode("utf-8"))
    (tmp_path / "b.vtt").write_text(VTT, encoding="utf-8")
    (tmp_path / "c.txt").write_text(VTT, encoding="utf-8")
    (tmp_path / "d.srt").write_bytes(b"1\n00:00:01,000 --> 00:00:02,000\n\xff\xfe\xfa\n")
    assert len(parse_subtitles(tmp_path / "a.srt")) == 2
    assert len(parse_subtitles(tmp_path / "b.vtt")) == 2
    assert len(parse_subtitles(tmp_path / "c.txt")) == 2
    with pytest.raises(MediaError) as err:
        parse_subtitles(tmp_path / "d.srt")
    assert err.value.code == "bad_subtitles" and "d.srt" in str(err.value)


def test_writers_round_trip():
    entries = [
        SubtitleEntry(0.0, 1.5, "Stay at home."),
        SubtitleEntry(61.25, 3723.456, "Protect <the> NHS & save\nlives --> now"),
    ]
    srt = write_srt(entries)
    assert "00:01:01,250 --> 01:02:03,456" in srt
    vtt = write_vtt(entries)
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:01:01.250 --> 01:02:03.456" in vtt
    back_vtt = parse_vtt(vtt)
    assert back_vtt[0] == entries[0]
    assert back_vtt[1].text == "Protect <the> NHS & save\nlives --> now"
    back_srt = parse_srt(srt)
    assert [(e.start, e.end) for e in back_srt] == [(0.0, 1.5), (61.25, 3723.456)]


# ----------------------------------------------------------------------------- overrides

def test_cues_from_subtitles_shift_clamp_and_pair_by_index():
    entries = parse_srt(SRT + "\n3\n00:00:09,000 --> 00:00:12,000\nOutside the trim.\n")
    cues = cues_from_subtitles(entries, ["Stay at home.", "Protect the NHS.", "Save lives."],
                               trim_start=0.4, trim_end=7.9, wrap_native=wrap)
    assert [c.start for c in cues] == [pytest.approx(0.6), pytest.approx(2.6)]
    assert cues[1].end == pytest.approx(4.85, abs=1 / FPS)
    assert cues[0].translation_lines == ("Stay at home.",)
    assert cues[0].sentences == (0,)
    assert cues[1].native_lines == ("Chroń NHS, ratuj życie.",)
    assert all(on_frames(c.start) and on_frames(c.end) for c in cues)


def test_cues_from_subtitles_pair_by_proportional_position():
    entries = [SubtitleEntry(0.0, 2.0, "Zostań w domu, chroń NHS."),
               SubtitleEntry(2.5, 4.0, "Ratuj życie.")]
    cues = cues_from_subtitles(entries, SCRIPT, trim_start=0.0, trim_end=5.0,
                               wrap_native=wrap)
    assert cues[0].sentences == (0, 1)
    assert cues[0].translation_lines == ("Stay at home. Protect the NHS.",)
    assert cues[1].sentences == (2,)


def test_cues_from_subtitles_clamp_and_keep_gaps():
    entries = [SubtitleEntry(0.0, 2.0, "One."), SubtitleEntry(1.95, 3.5, "Two."),
               SubtitleEntry(3.0, 9.0, "Three.")]
    cues = cues_from_subtitles(entries, None, trim_start=0.5, trim_end=6.5, wrap_native=wrap)
    assert cues[0].start == 0.0
    assert cues[-1].end == pytest.approx(6.0)
    for a, b in itertools.pairwise(cues):
        assert round((b.start - a.end) * FPS) >= 2
    assert all(c.translation_lines == () and c.sentences == () for c in cues)

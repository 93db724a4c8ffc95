"""Caption cue timing without a speech model, and SRT/VTT in and out.

Pure Python (no ffmpeg): everything here is a function of sentences, speech regions and
wrapping callbacks, so the timing rules are unit-tested directly.

How cues are laid out (:func:`time_cues`):

1. Each sentence is split into parts that fit ``max_lines`` (native and translation, as the
   caller's wrap functions say) at word boundaries, or grapheme boundaries for scripts
   written without spaces, preferring breaks after punctuation.
2. The parts are laid over the *speech time* (the speech regions joined end to end, pauses
   left out) in proportion to their spoken length: the number of letters and digits
   (grapheme clusters) of the native text is a fair proxy in every script.
3. Each boundary between parts moves to the nearest pause when one is near: people pause
   between sentences, so a pause is where the caption should change.
4. Parts longer than ``max_cue`` are split again; parts too short to read are merged with a
   neighbour when they cannot be shown for ``min_cue`` on their own.
5. Cues are shown ``lead`` before the speech and held ``hold`` after (hiding VAD errors of
   that size), in whole frames, never overlapping, with ``min_gap_frames`` between cues, and
   stretched into free time or taken from longer neighbours to reach ``min_cue``.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import regex

from workers.media.errors import MediaError

Wrap = Callable[[str], list[str]]

_GRAPHEME = regex.compile(r"\X")
_SPOKEN = regex.compile(r"(?=[\p{L}\p{N}])\X")
_BREAK_AFTER = set(",;:.!?،؛۔。，、；：！？।॥")
_FULL_STOPS = set("。！？")
#: Scripts written without spaces between words: split them between grapheme clusters.
_SPACELESS = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]")


@dataclass(frozen=True)
class Cue:
    """One caption on screen: times in seconds of the (trimmed) clip, the lines to draw, and
    the indexes of the script sentences it shows."""

    start: float
    end: float
    native_lines: tuple[str, ...]
    translation_lines: tuple[str, ...]
    sentences: tuple[int, ...]


def spoken_length(text: str) -> int:
    """Letters and digits of ``text`` as grapheme clusters: a proxy for how long it takes to
    say, that works for every script (spaces and punctuation take no time)."""
    return len(_SPOKEN.findall(text))


# --------------------------------------------------------------------------- text splitting


@dataclass(frozen=True)
class _Cand:
    offset: int  # character offset where the next part starts
    weight: int  # spoken length before the offset
    after_punct: bool


def _candidates(text: str, by_grapheme: bool) -> list[_Cand]:
    """Places where ``text`` may be split: word starts, or every grapheme boundary."""
    out: list[_Cand] = []
    weight = 0
    prev_char = ""
    pos = 0
    for m in _GRAPHEME.finditer(text):
        g = m.group()
        start = m.start()
        if start > 0:
            boundary = (not by_grapheme and prev_char.isspace() and not g.isspace()) or (
                by_grapheme and not g.isspace())
            if boundary:
                before = text[:start].rstrip()
                out.append(_Cand(start, weight, bool(before) and before[-1] in _BREAK_AFTER))
        if _SPOKEN.match(g):
            weight += 1
        prev_char = g[-1]
        pos = m.end()
    del pos
    return out


def _split_at(text: str, fractions: Sequence[float], by_grapheme: bool) -> list[str] | None:
    """Split ``text`` into ``len(fractions) + 1`` non-empty parts, breaking near each
    cumulative weight fraction (preferring breaks after punctuation); None if impossible."""
    cands = _candidates(text, by_grapheme)
    total = max(1, spoken_length(text))
    parts = len(fractions) + 1
    if len(cands) < parts - 1:
        return None
    chosen: list[_Cand] = []
    lo = 0
    bonus = 0.25 * total / parts
    for j, frac in enumerate(fractions):
        target = frac * total
        remaining = len(fractions) - j - 1
        pool = cands[lo: len(cands) - remaining]
        if not pool:
            return None
        best_i = min(range(len(pool)),
                     key=lambda i: abs(pool[i].weight - target)
                     - (bonus if pool[i].after_punct else 0.0))
        chosen.append(pool[best_i])
        lo += best_i + 1
    offsets = [0, *(c.offset for c in chosen), len(text)]
    pieces = [text[a:b].strip() for a, b in itertools.pairwise(offsets)]
    if any(not p for p in pieces):
        return None
    return pieces


def _spaceless(text: str) -> bool:
    """True for text in a script written without spaces between words (Chinese, Thai...)."""
    return not _has_space(text) and _SPACELESS.search(text) is not None


def _tokens(text: str, by_grapheme: bool) -> int:
    return len(_GRAPHEME.findall(text)) if by_grapheme else len(text.split())


def _balanced_split(native: str, translation: str, k: int,
                    force_grapheme: bool) -> list[tuple[str, str]]:
    """Split both texts into up to ``k`` parts: native balanced by spoken length, translation
    at the same fractions. A text with too few words for ``k`` parts has its words handed
    out by position instead (never cut inside a word unless ``force_grapheme``)."""
    even = [j / k for j in range(1, k)]
    nat_g = force_grapheme or _spaceless(native)
    nat = _split_at(native, even, nat_g)
    fracs: list[float] = even
    if nat is None:
        nat = _distribute(native, even, nat_g)
    else:
        total = max(1, spoken_length(native))
        acc = 0
        fracs = []
        for p in nat[:-1]:
            acc += spoken_length(p)
            fracs.append(acc / total)
    if translation:
        tr_g = _spaceless(translation)
        tr = _split_at(translation, fracs, tr_g) or _distribute(translation, fracs, tr_g)
    else:
        tr = [""] * k
    return [(n, t) for n, t in zip(nat, tr, strict=True) if n or t]


def _distribute(text: str, fracs: Sequence[float], by_grapheme: bool) -> list[str]:
    """Give each word (or grapheme) to the part its middle falls in; parts may be empty."""
    tokens = _GRAPHEME.findall(text) if by_grapheme else text.split()
    weights = [max(1, spoken_length(t)) for t in tokens]
    total = sum(weights) or 1
    parts: list[list[str]] = [[] for _ in range(len(fracs) + 1)]
    acc = 0.0
    for token, w in zip(tokens, weights, strict=True):
        middle = (acc + w / 2) / total
        acc += w
        parts[sum(1 for f in fracs if middle > f)].append(token)
    sep = "" if by_grapheme else " "
    return [sep.join(p).strip() for p in parts]


def _has_space(text: str) -> bool:
    return any(ch.isspace() for ch in text.strip())


def split_to_fit(native: str, translation: str, fits: Callable[[str, str], bool],
                 *, min_parts: int = 1) -> list[tuple[str, str]]:
    """The fewest parts (at least ``min_parts`` where the words allow) that each ``fits``.

    Words are kept whole while that works; only a word too long for the lines on its own is
    cut, between grapheme clusters (scripts without spaces are always split that way). If
    nothing fits (a grapheme wider than the lines), the finest split found is returned.
    """
    if min_parts <= 1 and fits(native, translation):
        return [(native, translation)]
    best: list[tuple[str, str]] | None = None
    modes = [False] if _spaceless(native) else [False, True]
    for force in modes:
        limit = max(_tokens(native, force or _spaceless(native)),
                    _tokens(translation, _spaceless(translation))) + 1
        for k in range(max(2, min_parts), limit + 1):
            pairs = _balanced_split(native, translation, k, force)
            best = pairs
            if all(fits(n, t) for n, t in pairs):
                return pairs
    return best if best is not None else [(native, translation)]


def _join(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    if a[-1] in _FULL_STOPS and not _has_space(a + b):
        return a + b
    return f"{a} {b}"


# --------------------------------------------------------------------------- speech time


class _SpeechTime:
    """Speech regions joined end to end: maps speech-time (pauses left out) to clip time."""

    def __init__(self, regions: Sequence[tuple[float, float]], duration: float):
        clean: list[tuple[float, float]] = []
        for a, b in sorted(regions):
            a, b = max(0.0, a), min(duration, b)
            if b - a <= 1e-6:
                continue
            if clean and a <= clean[-1][1]:
                clean[-1] = (clean[-1][0], max(b, clean[-1][1]))
            else:
                clean.append((a, b))
        if sum(b - a for a, b in clean) < 0.05:
            clean = [(0.0, duration)]
        self.regions = clean
        self.cum = [0.0]
        for a, b in clean:
            self.cum.append(self.cum[-1] + (b - a))
        self.total = self.cum[-1]

    def pauses(self) -> list[float]:
        """Speech-time positions of the pauses (between region i and i + 1)."""
        return self.cum[1:-1]

    def pause_length(self, i: int) -> float:
        return self.regions[i + 1][0] - self.regions[i][1]

    def real(self, u: float, *, side: str) -> float:
        """Clip time of speech-time ``u``; at a pause, ``left`` is where the speech before
        it ends and ``right`` where the speech after it starts."""
        u = min(max(u, 0.0), self.total)
        for i, (a, b) in enumerate(self.regions):
            lo, hi = self.cum[i], self.cum[i + 1]
            if u < hi - 1e-9 or i == len(self.regions) - 1:
                return a + (u - lo)
            if abs(u - hi) <= 1e-9:
                if side == "left" or i == len(self.regions) - 1:
                    return b
                return self.regions[i + 1][0]
        return self.regions[-1][1]


@dataclass
class _Unit:
    native: str
    translation: str
    sentences: tuple[int, ...]
    u0: float = 0.0  # speech-time span
    u1: float = 0.0
    splittable: bool = True


#: How far (as a share of the shorter neighbouring part) a boundary may move to a pause.
SNAP_REACH = 1.0
#: Cost of leaving a boundary where no pause is (in the units of :func:`_place`'s costs).
NO_PAUSE_COST = 0.7


def _place(units: list[_Unit], st: _SpeechTime, u0: float, u1: float) -> None:
    """Lay ``units`` over speech-time [u0, u1] by spoken length, snapping to pauses.

    The proportional boundaries are only estimates (people speak at different speeds), and a
    pause is where a caption should change, so the boundaries are moved to pauses jointly:
    a small dynamic programme picks, for every boundary, either its estimate (cost
    :data:`NO_PAUSE_COST`) or a pause within reach (cost: the distance relative to the
    neighbouring parts, less a bonus for long pauses, which are likelier sentence ends),
    keeping the boundaries in order and every part at least a third of its estimate.
    """
    weights = [max(1, spoken_length(u.native or u.translation)) for u in units]
    total = sum(weights)
    span = u1 - u0
    est = [u0]
    acc = 0
    for w in weights[:-1]:
        acc += w
        est.append(u0 + span * acc / total)
    est.append(u1)
    inner = len(units) - 1
    if inner <= 0:
        units[0].u0, units[0].u1 = u0, u1
        _ = st
        return
    pauses = [(p, st.pause_length(i)) for i, p in enumerate(st.pauses())
              if u0 + 1e-6 < p < u1 - 1e-6]
    # Candidates per boundary: (position, cost).
    cands: list[list[tuple[float, float]]] = []
    for j in range(1, inner + 1):
        near = min(est[j] - est[j - 1], est[j + 1] - est[j])
        options = [(est[j], NO_PAUSE_COST)]
        for p, length in pauses:
            dist = abs(p - est[j])
            if dist <= SNAP_REACH * near:
                options.append((p, 0.5 * dist / max(near, 1e-6) - 0.5 * min(length, 1.0)))
        cands.append(options)
    min_part = [(est[j + 1] - est[j]) / 3 for j in range(len(units))]
    inf = float("inf")
    # dp[j][c] = (cost, previous candidate index)
    dp: list[list[tuple[float, int]]] = []
    for j, options in enumerate(cands):
        row: list[tuple[float, int]] = []
        for pos, cost in options:
            best = (inf, -1)
            if j == 0:
                if pos - u0 >= min_part[0]:
                    best = (cost, -1)
            else:
                for c, (prev_pos, _) in enumerate(cands[j - 1]):
                    prev_cost = dp[j - 1][c][0]
                    if prev_cost < inf and pos - prev_pos >= min_part[j]:
                        best = min(best, (prev_cost + cost, c))
            if j == inner - 1 and u1 - pos < min_part[-1]:
                best = (inf, -1)
            row.append(best)
        dp.append(row)
    last = min(range(len(dp[-1])), key=lambda c: dp[-1][c][0])
    bounds = list(est)
    if dp[-1][last][0] < inf:
        c = last
        for j in range(inner - 1, -1, -1):
            bounds[j + 1] = cands[j][c][0]
            c = dp[j][c][1]
    for unit, a, b in zip(units, bounds, bounds[1:], strict=False):
        unit.u0, unit.u1 = a, b


# --------------------------------------------------------------------------- timing


def time_cues(
    native: Sequence[str],
    translation: Sequence[str] | None,
    speech: Sequence[tuple[float, float]],
    duration: float,
    *,
    wrap_native: Wrap,
    wrap_translation: Wrap | None = None,
    fps: int = 30,
    max_lines: int = 2,
    min_cue: float = 1.0,
    max_cue: float = 7.0,
    min_gap_frames: int = 2,
    lead: float = 0.15,
    hold: float = 0.3,
) -> list[Cue]:
    """Caption cues for one clip's sentences over its speech (module docstring has the rules).

    ``speech`` and ``duration`` are in seconds of the trimmed clip. ``translation`` is None or
    the same as ``native`` when the clip speaks the translation language: no second line.
    """
    if translation is not None and len(translation) != len(native):
        raise ValueError("translation must have one sentence per native sentence")
    if not native or duration <= 0:
        return []
    wrap_tr = wrap_translation or wrap_native
    has_tr = translation is not None and [t.strip() for t in translation] != [
        n.strip() for n in native]
    trans = [t.strip() for t in translation] if (has_tr and translation is not None) else [
        ""] * len(native)

    def fits(n: str, t: str) -> bool:
        return len(wrap_native(n)) <= max_lines and (not t or len(wrap_tr(t)) <= max_lines)

    st = _SpeechTime(speech, duration)
    # 1. Split sentences that do not fit the lines.
    units: list[_Unit] = []
    for i, (n, t) in enumerate(zip(native, trans, strict=True)):
        for pn, pt in split_to_fit(n.strip(), t, fits):
            units.append(_Unit(pn, pt, (i,)))
    # 2. Lay them over the speech.
    _place(units, st, 0.0, st.total)
    # 3. Split parts too long to read in one cue.
    speech_max = max(min_cue, max_cue - lead - hold)
    units = _split_long(units, st, speech_max, fits)
    # 4. Merge parts too short to show on their own.
    def layout(parts: list[_Unit]) -> list[tuple[int, int]]:
        return _layout(parts, st, duration, fps=fps, min_cue=min_cue, max_cue=max_cue,
                       gap=min_gap_frames, lead=lead, hold=hold)

    units = _merge_short(units, st, speech_max, fits, layout,
                         math.ceil(min(min_cue, duration) * fps - 1e-6))
    # 5. Frames.
    frames = layout(units)
    cues = []
    for unit, (f0, f1) in zip(units, frames, strict=True):
        cues.append(Cue(
            start=f0 / fps,
            end=f1 / fps,
            native_lines=tuple(wrap_native(unit.native)),
            translation_lines=tuple(wrap_tr(unit.translation)) if unit.translation else (),
            sentences=unit.sentences,
        ))
    return cues


def _span(unit: _Unit, st: _SpeechTime) -> tuple[float, float]:
    return st.real(unit.u0, side="right"), st.real(unit.u1, side="left")


def _split_long(units: list[_Unit], st: _SpeechTime, speech_max: float,
                fits: Callable[[str, str], bool]) -> list[_Unit]:
    out: list[_Unit] = []
    queue = list(units)
    guard = 0
    while queue:
        unit = queue.pop(0)
        s, e = _span(unit, st)
        guard += 1
        if e - s <= speech_max or not unit.splittable or guard > 10_000:
            out.append(unit)
            continue
        k = math.ceil((e - s) / speech_max)
        pairs = split_to_fit(unit.native, unit.translation, fits, min_parts=k)
        if len(pairs) < 2:
            unit.splittable = False
            out.append(unit)
            continue
        parts = [_Unit(n, t, unit.sentences) for n, t in pairs]
        _place(parts, st, unit.u0, unit.u1)
        queue = parts + queue
    return out


def _merge_short(units: list[_Unit], st: _SpeechTime, speech_max: float,
                 fits: Callable[[str, str], bool],
                 layout: Callable[[list[_Unit]], list[tuple[int, int]]],
                 min_frames: int) -> list[_Unit]:
    """Merge a part with a neighbour while the layout cannot show it for ``min_cue``.

    The shortest cue goes first; it joins the neighbour it is spoken closest to (a neighbour
    that is itself short is preferred), if the joined text still fits the lines and the
    joined speech still fits one cue. A part that can join neither is left as it is.
    """
    stuck: set[int] = set()
    while len(units) > 1:
        frames = layout(units)
        short = [k for k, (f0, f1) in enumerate(frames)
                 if f1 - f0 < min_frames and id(units[k]) not in stuck]
        if not short:
            break
        k = min(short, key=lambda i: frames[i][1] - frames[i][0])
        options = []
        for j in (k - 1, k + 1):
            if 0 <= j < len(units):
                a, b = sorted((k, j))
                gap = _span(units[b], st)[0] - _span(units[a], st)[1]
                if frames[j][1] - frames[j][0] < min_frames:
                    gap -= 0.5
                options.append((gap, a, b))
        merged_any = False
        for _, a, b in sorted(options):
            first, second = units[a], units[b]
            n = _join(first.native, second.native)
            t = _join(first.translation, second.translation)
            merged = _Unit(n, t, tuple(dict.fromkeys(first.sentences + second.sentences)),
                           first.u0, second.u1, splittable=False)
            ms, me = _span(merged, st)
            if fits(n, t) and me - ms <= speech_max:
                units = [*units[:a], merged, *units[b + 1:]]
                merged_any = True
                break
        if not merged_any:
            stuck.add(id(units[k]))
    return units


def _layout(units: list[_Unit], st: _SpeechTime, duration: float, *, fps: int,
            min_cue: float, max_cue: float, gap: int, lead: float,
            hold: float) -> list[tuple[int, int]]:
    """Whole-frame display times: lead/hold around speech, gaps, then min/max duration."""
    total = max(1, math.floor(duration * fps + 1e-6))
    min_f = math.ceil(min_cue * fps - 1e-6)
    max_f = math.floor(max_cue * fps + 1e-6)
    speech = [(s * fps, e * fps) for s, e in (_span(u, st) for u in units)]
    start = [max(0, round(s - lead * fps)) for s, _ in speech]
    end = [min(total, round(e + hold * fps)) for _, e in speech]
    n = len(units)
    for k in range(n):
        end[k] = max(end[k], start[k] + 1)
    # No overlap: cut conflicts in the middle of the pause between the two speeches.
    for k in range(n - 1):
        if end[k] + gap > start[k + 1]:
            mid = (speech[k][1] + speech[k + 1][0]) / 2
            cut = max(start[k] + 1, round(mid) - gap // 2)
            end[k] = min(end[k], cut)
            start[k + 1] = max(start[k + 1], end[k] + gap)
    # Forward pass may have pushed starts past ends; repair from the end of the clip back.
    for k in range(n - 1, -1, -1):
        limit = total if k == n - 1 else start[k + 1] - gap
        end[k] = min(max(end[k], start[k] + 1), limit)
        if end[k] <= start[k]:
            start[k] = max(0, end[k] - 1)
    # Stretch short cues into free time, then take time from longer neighbours.
    for _ in range(3):
        for k in range(n):
            need = min_f - (end[k] - start[k])
            if need <= 0:
                continue
            hi = total if k == n - 1 else start[k + 1] - gap
            take = min(need, max(0, hi - end[k]))
            end[k] += take
            need -= take
            lo = 0 if k == 0 else end[k - 1] + gap
            take = min(need, max(0, start[k] - lo))
            start[k] -= take
            need -= take
            if need > 0 and k + 1 < n:
                spare = (end[k + 1] - start[k + 1]) - min_f
                take = min(need, max(0, spare))
                start[k + 1] += take
                end[k] += take
                need -= take
            if need > 0 and k > 0:
                spare = (end[k - 1] - start[k - 1]) - min_f
                take = min(need, max(0, spare))
                end[k - 1] -= take
                start[k] -= take
                need -= take
    # Cap long cues: drop early lead first, then cut the end.
    for k in range(n):
        if end[k] - start[k] > max_f:
            start[k] = min(max(start[k], math.floor(speech[k][0])), end[k] - max_f)
            end[k] = min(end[k], start[k] + max_f)
    return list(zip(start, end, strict=True))


# --------------------------------------------------------------------------- SRT / VTT


@dataclass(frozen=True)
class SubtitleEntry:
    """One subtitle: seconds and plain text (lines joined by newlines)."""

    start: float
    end: float
    text: str


_SRT_TIME = re.compile(
    r"^\s*(?P<a>\d+:\d{1,2}:\d{1,2}(?:[,.]\d{1,3})?)\s*-->\s*"
    r"(?P<b>\d+:\d{1,2}:\d{1,2}(?:[,.]\d{1,3})?)(?:\s.*)?$")
_VTT_TIME = re.compile(
    r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{1,2}\.\d{3})\s+-->\s+"
    r"(?P<b>(?:\d+:)?\d{1,2}:\d{1,2}\.\d{3})(?:\s+.*)?$")
_TAG = re.compile(r"<[^>]*>")
_ASS_TAG = re.compile(r"\{\\[^}]*\}")


def _bad(source: str, line: int, why: str) -> MediaError:
    return MediaError(f"line {line}: {why}", code="bad_subtitles", subject=source)


def _seconds(stamp: str) -> float:
    stamp = stamp.replace(",", ".")
    parts = stamp.split(":")
    sec = float(parts[-1])
    minutes = int(parts[-2]) if len(parts) >= 2 else 0
    hours = int(parts[-3]) if len(parts) >= 3 else 0
    return hours * 3600 + minutes * 60 + sec


def _clean_text(lines: list[str], *, vtt: bool) -> str:
    text = "\n".join(line.strip() for line in lines)
    text = _ASS_TAG.sub("", text)
    text = _TAG.sub("", text)
    if vtt:
        text = html.unescape(text)
    return "\n".join(line for line in text.split("\n") if line.strip()).strip()


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks as (first line number, lines), BOM and CRLF tolerated."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _entry(source: str, line: int, a: str, b: str, body: list[str],
           vtt: bool) -> SubtitleEntry | None:
    start, end = _seconds(a), _seconds(b)
    if end < start:
        raise _bad(source, line, f"the cue ends ({b}) before it starts ({a})")
    text = _clean_text(body, vtt=vtt)
    if end == start or not text:
        return None
    return SubtitleEntry(start, end, text)


def parse_srt(text: str, *, source: str = "subtitles.srt") -> list[SubtitleEntry]:
    """SubRip: ``index`` / ``00:00:01,000 --> 00:00:02,500`` / text lines, blank-separated.

    Tolerant of a BOM, CRLF, a missing index or final blank line, ``.`` for ``,`` and
    formatting tags; a block without a valid time line raises ``bad_subtitles`` naming
    ``source`` and the line.
    """
    entries: list[SubtitleEntry] = []
    for first, lines in _blocks(text):
        i = 0
        if lines[0].strip().isdigit() and len(lines) > 1:
            i = 1
        m = _SRT_TIME.match(lines[i])
        if not m:
            raise _bad(source, first + i,
                       f"expected a time line like '00:00:01,000 --> 00:00:02,500', "
                       f"found {lines[i].strip()[:60]!r}")
        entry = _entry(source, first + i, m["a"], m["b"], lines[i + 1:], vtt=False)
        if entry:
            entries.append(entry)
    return entries


def parse_vtt(text: str, *, source: str = "subtitles.vtt") -> list[SubtitleEntry]:
    """WebVTT: a ``WEBVTT`` header, then cues (optional id, time line with optional cue
    settings, payload); NOTE, STYLE and REGION blocks are skipped, tags and entities
    removed. Malformed input raises ``bad_subtitles`` naming ``source`` and the line."""
    blocks = _blocks(text)
    if not blocks or not blocks[0][1][0].startswith("WEBVTT"):
        raise _bad(source, 1, "a WebVTT file must start with 'WEBVTT'")
    entries: list[SubtitleEntry] = []
    for first, lines in blocks[1:]:
        head = lines[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
            continue
        i = 0 if "-->" in lines[0] else 1
        if i >= len(lines):
            raise _bad(source, first, f"a cue without a time line: {head[:60]!r}")
        m = _VTT_TIME.match(lines[i])
        if not m:
            raise _bad(source, first + i,
                       f"expected a time line like '00:01.000 --> 00:02.500', "
                       f"found {lines[i].strip()[:60]!r}")
        entry = _entry(source, first + i, m["a"], m["b"], lines[i + 1:], vtt=True)
        if entry:
            entries.append(entry)
    return entries


def parse_subtitles(path: Path) -> list[SubtitleEntry]:
    """Read a campaign's SRT or VTT file (by extension, else by content)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read the subtitles ({exc.strerror})", code="bad_subtitles",
                         subject=str(path)) from exc
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = raw.decode("utf-16")
        else:
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MediaError(f"the subtitles are not UTF-8 text (byte {exc.start})",
                         code="bad_subtitles", subject=str(path)) from exc
    suffix = Path(path).suffix.lower()
    is_vtt = suffix == ".vtt" or (suffix != ".srt" and text.lstrip("\ufeff").startswith(
        "WEBVTT"))
    if is_vtt:
        return parse_vtt(text, source=str(path))
    return parse_srt(text, source=str(path))


def _proportional_owner(entries: Sequence[SubtitleEntry], count: int) -> list[int]:
    """For each of ``count`` sentences, the entry whose share of the text overlaps it most."""
    weights = [max(1, spoken_length(e.text)) for e in entries]
    total = sum(weights)
    bounds = [0.0]
    for w in weights:
        bounds.append(bounds[-1] + w / total)
    owners = []
    for j in range(count):
        a, b = j / count, (j + 1) / count
        overlaps = [max(0.0, min(b, bounds[i + 1]) - max(a, bounds[i]))
                    for i in range(len(entries))]
        owners.append(max(range(len(entries)), key=lambda i: overlaps[i]))
    return owners


def cues_from_subtitles(
    entries: Sequence[SubtitleEntry],
    translation: Sequence[str] | None,
    *,
    trim_start: float,
    trim_end: float,
    wrap_native: Wrap,
    wrap_translation: Wrap | None = None,
    fps: int = 30,
    min_gap_frames: int = 2,
) -> list[Cue]:
    """Cues from the campaign's own SRT/VTT (it overrides automatic timing).

    Entry times are seconds of the ORIGINAL file: they are shifted by ``trim_start`` and
    clamped to the kept part, entries outside it are dropped, times are whole frames and
    overlapping entries are cut to leave ``min_gap_frames``. Translation sentences pair with
    entries by index when the counts match, else each goes to the entry it overlaps most by
    proportional position in the text.
    """
    wrap_tr = wrap_translation or wrap_native
    ordered = sorted(entries, key=lambda e: (e.start, e.end))
    sentences: list[tuple[int, ...]] = [() for _ in ordered]
    texts = ["" for _ in ordered]
    if translation and ordered:
        if len(translation) == len(ordered):
            owners = list(range(len(ordered)))
        else:
            owners = _proportional_owner(ordered, len(translation))
        for j, owner in enumerate(owners):
            sentences[owner] = (*sentences[owner], j)
            texts[owner] = _join(texts[owner], translation[j].strip())
    length = trim_end - trim_start
    total = math.floor(length * fps + 1e-6)
    out: list[tuple[int, int, int]] = []
    for i, e in enumerate(ordered):
        f0 = max(0, round((e.start - trim_start) * fps))
        f1 = min(total, round((e.end - trim_start) * fps))
        if f1 <= f0:
            continue
        if out and out[-1][1] + min_gap_frames > f0:
            p0, _, pi = out[-1]
            cut = f0 - min_gap_frames
            if cut <= p0:
                f0 = out[-1][1] + min_gap_frames
                if f1 <= f0:
                    continue
            else:
                out[-1] = (p0, cut, pi)
        out.append((f0, f1, i))
    cues = []
    for f0, f1, i in out:
        native_text = " ".join(ordered[i].text.split("\n"))
        cues.append(Cue(
            start=f0 / fps,
            end=f1 / fps,
            native_lines=tuple(wrap_native(native_text)),
            translation_lines=tuple(wrap_tr(texts[i])) if texts[i] else (),
            sentences=sentences[i],
        ))
    return cues


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _payload(text: str) -> list[str]:
    """Text lines with no blank line (a blank line would end the cue early)."""
    return [line.strip() for line in text.split("\n") if line.strip()] or [""]


def write_srt(entries: Sequence[SubtitleEntry]) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm`` times, a blank line after each."""
    blocks = []
    for n, e in enumerate(entries, start=1):
        body = "\n".join(line.replace("-->", "->") for line in _payload(e.text))
        blocks.append(f"{n}\n{_stamp(e.start, ',')} --> {_stamp(e.end, ',')}\n{body}\n")
    return "\n".join(blocks)


def write_vtt(entries: Sequence[SubtitleEntry]) -> str:
    """WebVTT text: the header, then cues with ``HH:MM:SS.mmm`` times and escaped text."""
    blocks = ["WEBVTT\n"]
    for e in entries:
        body = "\n".join(html.escape(line, quote=False).replace("-->", "--&gt;")
                         for line in _payload(e.text))
        blocks.append(f"{_stamp(e.start, '.')} --> {_stamp(e.end, '.')}\n{body}\n")
    return "\n".join(blocks)

"""The campaign file: YAML written by hand, read into frozen dataclasses, every mistake named.

People write these files by hand, so a mistake must say where it is and what to do: every
problem names the line (and the clip), and all problems are collected before raising, so one
run lists everything to fix. The key names are fixed by the issue and documented in
``examples/stay-at-home/README.md``; other tools write the same keys.

YAML 1.1 reads ``no``, ``yes``, ``on`` and ``off`` as booleans, which would turn Norwegian
(``language: no``) into ``False``: this loader only reads ``true``/``false`` as booleans.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from babel.messages.pofile import PoFileError, read_po

from workers.media import captions as subtitles_io
from workers.media import languages
from workers.media.campaign import Campaign, Card, ClipSpec
from workers.media.errors import MediaError
from workers.media.style import DEFAULT_FORMAT, FORMATS, Brand, is_colour

CARD_MIN_SECONDS = 1.0
CARD_MAX_SECONDS = 15.0
DEFAULT_CARD_SECONDS = 3.0
LOUDNESS_RANGE = (-36.0, -6.0)

TOP_KEYS = ("title", "language", "translation_language", "script", "translations", "intro",
            "outro", "brand", "formats", "loudness", "clips")
CLIP_KEYS = ("file", "language", "language_name", "speaker", "role", "text", "catalog",
             "trim", "captions")
CARD_KEYS = ("text", "duration", "logo")
BRAND_KEYS = ("background", "text", "accent")
CAPTION_SUFFIXES = (".srt", ".vtt")


@dataclass(frozen=True)
class ClipEntry:
    """A clip as the file gives it, before the campaign's translation line is known."""

    spec: ClipSpec
    line: int
    captions: Path | None


@dataclass(frozen=True)
class CampaignFile:
    """A checked campaign file: the engine's :class:`Campaign`, plus what only the file has.

    ``script`` is the message in the campaign's language, ``translation`` the script in its
    ``translation_language``; ``lines`` maps a clip's index to the line its entry starts on,
    ``captions`` a clip's index to its own SRT/VTT file (already read into the clip's
    ``subtitles``).
    """

    path: Path
    campaign: Campaign
    script: tuple[str, ...]
    translation: tuple[str, ...]
    lines: dict[int, int]
    captions: dict[int, Path]


@dataclass(frozen=True)
class CampaignProblem:
    """One mistake in a campaign file: where it is (line, clip) and what is wrong."""

    line: int | None
    clip: int | None
    message: str
    clip_label: str | None = None
    file: str = "campaign.yaml"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.clip is not None:
            where += f", clip {self.clip}"
            if self.clip_label:
                where += f" ({self.clip_label})"
        return f"{where}: {self.message}"


class CampaignError(MediaError):
    """The campaign file has mistakes; ``problems`` lists every one found."""

    code = "invalid_campaign"

    def __init__(self, path: Path, problems: list[CampaignProblem]):
        problems = sorted(problems, key=lambda p: p.line or 0)  # stable: file order
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the campaign file has {count}:\n{lines}", subject=str(path))


# --- YAML with line numbers -------------------------------------------------------------


class LineDict(dict[Any, Any]):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    """A YAML sequence that remembers its own line and each item's line (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader that records lines and reads only ``true``/``false`` as booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    duplicates: list[tuple[str, int]] = []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool):
            key = str(key)
        if key in data:
            duplicates.append((str(key), key_node.start_mark.line + 1))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1
    data.duplicates = duplicates  # type: ignore[attr-defined]
    return data


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    data = LineList(loader.construct_object(child, deep=True) for child in node.value)
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    return data


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _line_of(container: Any, key: Any) -> int | None:
    if isinstance(container, LineDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, LineList) and isinstance(key, int):
        if 0 <= key < len(container.item_lines):
            return container.item_lines[key]
        return container.line
    return None


# --- the checker ----------------------------------------------------------------------------


@dataclass
class _Checker:
    """Collects problems and warnings while reading one campaign file."""

    path: Path
    problems: list[CampaignProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    clip: int | None = None
    clip_label: str | None = None

    @property
    def base(self) -> Path:
        return self.path.parent

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(CampaignProblem(line, self.clip, message, self.clip_label,
                                             self.path.name))

    def warn(self, line: int | None, message: str) -> None:
        self.warnings.append(str(CampaignProblem(line, self.clip, message, self.clip_label,
                                                 self.path.name)))

    # generic readers; each returns None (after recording a problem) when the value is wrong

    def unknown_keys(self, mapping: LineDict, allowed: tuple[str, ...], what: str) -> None:
        for dup, line in getattr(mapping, "duplicates", []):
            self.problem(line, f"'{dup}' is given twice in {what}")
        for key in mapping:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else ""
                self.warn(_line_of(mapping, key), f"unknown key '{key}' in {what} is ignored"
                          + extra)

    def text(self, mapping: LineDict, key: str, what: str, *, required: bool = True,
             allow_empty: bool = False) -> str | None:
        if key not in mapping or mapping[key] is None:
            if required:
                self.problem(mapping.line, f"{what} has no '{key}'")
            return None
        value = mapping[key]
        if not isinstance(value, str):
            self.problem(_line_of(mapping, key),
                         f"'{key}' must be text, not {_kind(value)} ({value!r}); put it in quotes")
            return None
        if not value.strip() and not allow_empty:
            self.problem(_line_of(mapping, key), f"'{key}' is empty")
            return None
        return value.strip()

    def number(self, mapping: LineDict, key: str) -> float | None:
        value = mapping.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            self.problem(_line_of(mapping, key),
                         f"'{key}' must be a number, not {_kind(value)} ({value!r})")
            return None
        return float(value)

    def mapping(self, parent: LineDict, key: str) -> LineDict | None:
        value = parent.get(key)
        if not isinstance(value, LineDict):
            self.problem(_line_of(parent, key),
                         f"'{key}' must be a mapping of keys (like {{text: ..., duration: 3}}), "
                         f"not {_kind(value)}")
            return None
        return value

    def existing_file(self, mapping: LineDict, key: str, what: str,
                      owner: str = "the clip") -> Path | None:
        rel = self.text(mapping, key, owner)
        if rel is None:
            return None
        path = (self.base / rel).resolve() if not Path(rel).is_absolute() else Path(rel)
        if not path.is_file():
            reason = "is a folder, not a file" if path.is_dir() else "does not exist"
            self.problem(_line_of(mapping, key),
                         f"{what} file '{rel}' {reason} (looked for {path})")
            return None
        return path

    def language(self, mapping: LineDict, key: str, what: str,
                 override: str | None = None) -> str | None:
        tag = self.text(mapping, key, what)
        if tag is None:
            return None
        line = _line_of(mapping, key)
        if not languages.is_valid_tag(tag):
            hint = " (use '-' between subtags, not '_')" if "_" in tag else ""
            self.problem(line, f"'{tag}' is not a valid BCP 47 language tag{hint}")
            return None
        try:
            languages.language_name(tag, override)
        except languages.UnknownLanguageError:
            self.problem(line, f"the language code '{tag}' is not known to CLDR; check the code, "
                               "or name the language with language_name: "
                               "\"<own name> / <English name>\"")
            return None
        return tag

    def sentences(self, value: Any, line: int | None, what: str,
                  expected: int | None) -> tuple[str, ...] | None:
        if not isinstance(value, LineList):
            self.problem(line, f"{what} must be a list of sentences, not {_kind(value)}")
            return None
        ok = True
        out: list[str] = []
        for i, item in enumerate(value):
            item_line = _line_of(value, i)
            if not isinstance(item, str):
                self.problem(item_line, f"sentence {i + 1} of {what} must be text, not "
                                        f"{_kind(item)} ({item!r}); put it in quotes")
                ok = False
            elif not item.strip():
                self.problem(item_line, f"sentence {i + 1} of {what} is empty")
                ok = False
            else:
                out.append(" ".join(item.split()))
        if expected is not None and len(value) != expected:
            self.problem(line, f"{_plural(len(value), 'sentence')}, but the script has "
                               f"{expected}")
            ok = False
        elif expected is None and not value:
            self.problem(line, f"{what} has no sentences")
            ok = False
        return tuple(out) if ok else None

    def catalog(self, mapping: LineDict, key: str, script: tuple[str, ...],
                language: str | None) -> tuple[str, ...] | None:
        path = self.existing_file(mapping, key, "catalog")
        if path is None:
            return None
        return self.read_catalog(path, str(mapping[key]), _line_of(mapping, key), script,
                                 language)

    def read_catalog(self, path: Path, rel: str, line: int | None, script: tuple[str, ...],
                     language: str | None) -> tuple[str, ...] | None:
        try:
            with open(path, "rb") as fh:
                catalog = read_po(fh, abort_invalid=True)
        except (PoFileError, UnicodeDecodeError, ValueError, IndexError) as exc:
            self.problem(line, f"catalog '{rel}' is not a readable gettext .po file ({exc})")
            return None
        if language and catalog.locale is not None:
            header = str(catalog.locale).split("_", 1)[0].lower()
            if header != languages.base_language(language):
                self.warn(line, f"catalog '{rel}' says its language is '{catalog.locale}', "
                                f"but the clip's language is '{language}'")
        out: list[str] = []
        ok = True
        for i, sentence in enumerate(script):
            message = catalog.get(sentence)
            quoted = f"sentence {i + 1} ('{sentence}')"
            if message is None:
                self.problem(line, f"catalog '{rel}' has no msgid for {quoted}")
                ok = False
            elif not isinstance(message.string, str) or not message.string.strip():
                self.problem(line, f"catalog '{rel}' has an empty translation for {quoted}")
                ok = False
            elif message.fuzzy:
                self.problem(line, f"catalog '{rel}' marks the translation of {quoted} as fuzzy "
                                   "(not approved); review it and remove the fuzzy flag")
                ok = False
            else:
                out.append(" ".join(message.string.split()))
        return tuple(out) if ok else None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# --- sections -------------------------------------------------------------------------------


def _card(c: _Checker, top: LineDict, key: str) -> Card | None:
    if key not in top or top[key] is None:
        return None
    card = c.mapping(top, key)
    if card is None:
        return None
    c.unknown_keys(card, CARD_KEYS, key)
    text = c.text(card, "text", key)
    duration: float | None = DEFAULT_CARD_SECONDS
    if "duration" in card:
        duration = c.number(card, "duration")
        if duration is not None and not CARD_MIN_SECONDS <= duration <= CARD_MAX_SECONDS:
            c.problem(_line_of(card, "duration"),
                      f"{key} duration is {duration:g} s; it must be between "
                      f"{CARD_MIN_SECONDS:g} and {CARD_MAX_SECONDS:g} s")
            duration = None
    logo = c.existing_file(card, "logo", f"{key} logo") if card.get("logo") is not None else None
    if text is None or duration is None or ("logo" in card and card["logo"] is not None
                                            and logo is None):
        return None
    return Card(text=text, duration=duration, logo=logo)


def _brand(c: _Checker, top: LineDict) -> Brand:
    if top.get("brand") is None:
        return Brand()
    brand = c.mapping(top, "brand")
    if brand is None:
        return Brand()
    c.unknown_keys(brand, BRAND_KEYS, "brand")
    values: dict[str, str] = {}
    for key in BRAND_KEYS:
        if brand.get(key) is None:
            continue
        value = brand[key]
        if not isinstance(value, str) or not is_colour(value):
            c.problem(_line_of(brand, key),
                      f"brand {key} colour {value!r} must be written #rrggbb, like \"#1d3557\" "
                      "(in quotes: # starts a comment in YAML)")
        else:
            values[key] = value.lower()
    return Brand(**values)


def _formats(c: _Checker, top: LineDict) -> tuple[str, ...]:
    value = top.get("formats")
    if value is None:
        return (DEFAULT_FORMAT,)
    if isinstance(value, str):
        value_list: list[Any] = [value]
        lines: list[int | None] = [_line_of(top, "formats")]
    elif isinstance(value, LineList):
        value_list = list(value)
        lines = [_line_of(value, i) for i in range(len(value))]
    else:
        c.problem(_line_of(top, "formats"), f"'formats' must be a list, not {_kind(value)}")
        return (DEFAULT_FORMAT,)
    out: list[str] = []
    for item, line in zip(value_list, lines, strict=True):
        if item not in FORMATS:
            c.problem(line, f"unknown format {item!r}; use {', '.join(FORMATS)}")
        elif item not in out:
            out.append(item)
    if not value_list:
        c.problem(_line_of(top, "formats"), "'formats' is empty")
    return tuple(out) or (DEFAULT_FORMAT,)


def _trim(c: _Checker, clip: LineDict) -> tuple[float, float] | None:
    if clip.get("trim") is None:
        return None
    trim = c.mapping(clip, "trim")
    if trim is None:
        return None
    c.unknown_keys(trim, ("start", "end"), "trim")
    missing = [k for k in ("start", "end") if k not in trim]
    if missing:
        c.problem(trim.line, "trim needs both start and end (seconds of the original clip)")
        return None
    start, end = c.number(trim, "start"), c.number(trim, "end")
    if start is None or end is None:
        return None
    if start < 0:
        c.problem(_line_of(trim, "start"), f"trim start {start:g} is negative")
        return None
    if end <= start:
        c.problem(_line_of(trim, "end"), f"trim end {end:g} must be after start {start:g}")
        return None
    return start, end


def _clip(c: _Checker, clips: LineList, i: int, source: str | None,
          script: tuple[str, ...] | None) -> ClipEntry | None:
    entry = clips[i]
    c.clip, c.clip_label = i + 1, None
    line = _line_of(clips, i)
    if not isinstance(entry, LineDict):
        c.problem(line, f"each clip must be a mapping (file:, language:, ...), not {_kind(entry)}")
        return None
    lang_raw, speaker_raw = entry.get("language"), entry.get("speaker")
    c.clip_label = ", ".join(str(v) for v in (lang_raw, speaker_raw) if isinstance(v, str)) or None
    c.unknown_keys(entry, CLIP_KEYS, "the clip")
    file = c.existing_file(entry, "file", "clip")
    name_override = c.text(entry, "language_name", "the clip", required=False)
    language = c.language(entry, "language", "the clip", name_override)
    speaker = c.text(entry, "speaker", "the clip")
    role = c.text(entry, "role", "the clip", allow_empty=True)
    if "role" in entry and entry["role"] is None:
        role = ""
    expected = len(script) if script is not None else None
    sentences: tuple[str, ...] | None = None
    has_text, has_catalog = entry.get("text") is not None, entry.get("catalog") is not None
    if has_text and has_catalog:
        c.problem(_line_of(entry, "catalog"), "give the clip's text either as 'text' or as "
                                              "'catalog', not both")
    elif has_text:
        sentences = c.sentences(entry["text"], _line_of(entry, "text"), "the clip's text",
                                expected)
    elif has_catalog:
        if script is not None:
            sentences = c.catalog(entry, "catalog", script, language)
        else:
            c.existing_file(entry, "catalog", "catalog")
    elif (language is not None and source is not None and script is not None
          and languages.same_language(language, source)):
        sentences = script  # a clip in the source language says the script itself
    else:
        c.problem(entry.line, "the clip has no 'text' (its sentences) and no 'catalog' "
                              "(a .po file with them)")
    captions = None
    timed: tuple[subtitles_io.SubtitleEntry, ...] | None = None
    if entry.get("captions") is not None:
        captions = c.existing_file(entry, "captions", "captions")
        if captions is not None and captions.suffix.lower() not in CAPTION_SUFFIXES:
            c.problem(_line_of(entry, "captions"),
                      f"captions file '{entry['captions']}' must be .srt or .vtt")
            captions = None
        elif captions is not None:
            try:
                timed = tuple(subtitles_io.parse_subtitles(captions))
            except MediaError as exc:
                c.problem(_line_of(entry, "captions"), exc.message)
                captions = None
    trim = _trim(c, entry)
    if None in (file, language, speaker, role, sentences):
        return None
    assert file is not None and language is not None and speaker is not None
    assert role is not None and sentences is not None
    spec = ClipSpec(index=i + 1, file=file, language=language, language_name=name_override,
                    speaker=speaker, role=role, sentences=sentences, trim=trim,
                    subtitles=timed)
    return ClipEntry(spec, entry.line, captions)


def _translation(c: _Checker, top: LineDict, source: str, target: str,
                 script: tuple[str, ...], clips: list[ClipEntry]) -> tuple[str, ...] | None:
    """The script in ``target``: the script itself, ``translations:``, or a clip's text."""
    if languages.same_language(target, source):
        return script
    given = top.get("translations")
    if given is not None:
        if not isinstance(given, LineDict):
            c.problem(_line_of(top, "translations"),
                      "'translations' must map a language to a list of sentences or a .po file")
        else:
            for lang in given:
                if not isinstance(lang, str) or not languages.is_valid_tag(lang):
                    c.problem(_line_of(given, lang),
                              f"'{lang}' in translations is not a valid BCP 47 language tag")
            match = languages.best_match(target, [k for k in given if isinstance(k, str)])
            if match is not None:
                value, line = given[match], _line_of(given, match)
                if isinstance(value, str):
                    path = (c.base / value).resolve()
                    if not path.is_file():
                        c.problem(line, f"translation file '{value}' does not exist "
                                        f"(looked for {path})")
                        return None
                    return c.read_catalog(path, value, line, script, target)
                return c.sentences(value, line, f"the {target} translation", len(script))
    match = languages.best_match(target, [clip.spec.language for clip in clips])
    same = [clip for clip in clips if clip.spec.language == match]
    if same:
        return same[0].spec.sentences
    c.problem(_line_of(top, "translation_language"),
              f"translation_language is '{target}', but no clip is in that language and "
              f"'translations' has no '{target}' entry; add one")
    return None


def _top(c: _Checker, top: LineDict) -> CampaignFile | None:
    c.unknown_keys(top, TOP_KEYS, "the campaign")
    title = c.text(top, "title", "the campaign")
    source = c.language(top, "language", "the campaign")
    target = source
    if top.get("translation_language") is not None:
        target = c.language(top, "translation_language", "the campaign")
    script = None
    if top.get("script") is None:
        c.problem(top.line, "the campaign has no 'script' (the message as a list of sentences)")
    else:
        script = c.sentences(top["script"], _line_of(top, "script"), "the script", None)
    intro, outro = _card(c, top, "intro"), _card(c, top, "outro")
    brand, formats = _brand(c, top), _formats(c, top)
    loudness = -16.0
    if top.get("loudness") is not None:
        value = c.number(top, "loudness")
        if value is not None and not LOUDNESS_RANGE[0] <= value <= LOUDNESS_RANGE[1]:
            c.problem(_line_of(top, "loudness"),
                      f"loudness {value:g} LUFS is out of range ({LOUDNESS_RANGE[0]:g} to "
                      f"{LOUDNESS_RANGE[1]:g}; -16 suits phones and social media)")
        elif value is not None:
            loudness = value
    clips: list[ClipEntry] = []
    raw = top.get("clips")
    if raw is None:
        c.problem(top.line, "the campaign has no 'clips'")
    elif not isinstance(raw, LineList) or not raw:
        c.problem(_line_of(top, "clips"), "'clips' must be a list with at least one clip")
    else:
        for i in range(len(raw)):
            spec = _clip(c, raw, i, source, script)
            if spec is not None:
                clips.append(spec)
        c.clip = c.clip_label = None
    translation = None
    if source is not None and target is not None and script is not None:
        translation = _translation(c, top, source, target, script, clips)
    if c.problems:
        return None
    assert title is not None and source is not None and target is not None
    assert script is not None and translation is not None
    # A campaign file gives one translation line for every clip; a clip already in the
    # translation language shows none (its own line says it).
    specs = tuple(
        replace(e.spec, translation=None if languages.same_language(e.spec.language, target)
                else translation)
        for e in clips)
    campaign = Campaign(title=title, language=source, translation_language=target,
                        intro=intro, outro=outro, brand=brand, formats=formats, clips=specs,
                        loudness_target=loudness, warnings=tuple(c.warnings))
    return CampaignFile(path=c.path, campaign=campaign, script=script, translation=translation,
                        lines={e.spec.index: e.line for e in clips},
                        captions={e.spec.index: e.captions for e in clips if e.captions})


def load_campaign(path: Path) -> CampaignFile:
    """Read and check a campaign file; raise :class:`CampaignError` listing every problem."""
    path = Path(path).resolve()
    checker = _Checker(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MediaError("the campaign file does not exist", code="invalid_campaign",
                         subject=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"cannot read the campaign file ({exc})", code="invalid_campaign",
                         subject=str(path)) from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        detail = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        checker.problem(line, f"this is not valid YAML{column}: {detail}")
        raise CampaignError(path, checker.problems) from exc
    except yaml.YAMLError as exc:
        checker.problem(None, f"this is not valid YAML: {exc}")
        raise CampaignError(path, checker.problems) from exc
    if not isinstance(data, LineDict):
        checker.problem(1, "a campaign file must be a mapping of keys (title:, language:, ...), "
                           f"not {_kind(data)}")
        raise CampaignError(path, checker.problems)
    campaign = _top(checker, data)
    if campaign is None:
        raise CampaignError(path, checker.problems)
    return campaign


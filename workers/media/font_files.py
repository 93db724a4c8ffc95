"""The installed font files, what each one covers, and which Debian package adds what is missing.

Font folders are indexed once per process (file name → path). A face's character map, family
and line height are read with fontTools when the face is first considered. For the last step
of the fallback chain ("any installed font that has this character") the character sets
fontconfig has already computed for every installed font are read once (``fc-list``, one call
of about 40 ms for 1,900 files) instead of opening every file; fonts fontconfig does not know
(a folder in ``CHORUS_FONT_DIRS``) are read with fontTools.
"""

from __future__ import annotations

import bisect
import functools
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

from workers.media.scripts import CJK_SCRIPTS, LATIN_LIKE, script_name, script_of

#: Folders searched for fonts, in order. ``CHORUS_FONT_DIRS`` (os.pathsep-separated) adds
#: folders before these. Tests may replace this tuple.
SYSTEM_FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    str(Path.home() / ".local" / "share" / "fonts"),
)
FONT_DIRS_ENV = "CHORUS_FONT_DIRS"

_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")

#: Scripts with a font in Debian 12's fonts-noto-core (every script family of the Noto
#: project in Debian is there; fonts-noto-extra only adds weights). Read from the package's
#: files: a script counts when a Regular face has five or more of its letters.
NOTO_CORE_SCRIPTS = frozenset({
    "Adlm", "Aghb", "Ahom", "Arab", "Armi", "Armn", "Avst", "Bali", "Bamu", "Bass", "Batk",
    "Beng", "Bhks", "Brah", "Brai", "Bugi", "Buhd", "Cakm", "Cans", "Cari", "Cham", "Cher",
    "Copt", "Cprt", "Cyrl", "Deva", "Dogr", "Dsrt", "Dupl", "Egyp", "Elba", "Elym", "Ethi",
    "Geor", "Glag", "Gong", "Gonm", "Goth", "Gran", "Grek", "Gujr", "Guru", "Hano", "Hatr",
    "Hebr", "Hluw", "Hmng", "Hmnp", "Hung", "Ital", "Java", "Kali", "Khar", "Khmr", "Khoj",
    "Knda", "Kthi", "Lana", "Laoo", "Latn", "Lepc", "Limb", "Lina", "Linb", "Lisu", "Lyci",
    "Lydi", "Mahj", "Mand", "Mani", "Marc", "Medf", "Mend", "Merc", "Mero", "Mlym", "Modi",
    "Mong", "Mroo", "Mtei", "Mult", "Mymr", "Narb", "Nbat", "Newa", "Nkoo", "Nshu", "Ogam",
    "Olck", "Orya", "Osge", "Osma", "Palm", "Pauc", "Perm", "Phag", "Phli", "Phlp", "Phnx",
    "Plrd", "Prti", "Rjng", "Rohg", "Runr", "Samr", "Sarb", "Saur", "Sgnw", "Shaw", "Shrd",
    "Sidd", "Sind", "Sinh", "Sogd", "Sogo", "Sora", "Soyo", "Sund", "Sylo", "Syrc", "Tagb",
    "Takr", "Tale", "Talu", "Taml", "Tang", "Tavt", "Telu", "Tfng", "Tglg", "Thaa", "Thai",
    "Tibt", "Tirh", "Ugar", "Vaii", "Wara", "Wcho", "Xpeo", "Xsux", "Yezi", "Yiii", "Zanb",
})
#: GNU Unifont: one glyph for nearly every character of Unicode 15, in a plain bitmap style.
#: The package to name for a character no Noto font in Debian has.
UNIFONT_PACKAGE = "fonts-unifont"
EMOJI_PACKAGE = "fonts-noto-color-emoji"


def search_dirs() -> tuple[str, ...]:
    """The font folders, ``CHORUS_FONT_DIRS`` first."""
    extra = [d for d in os.environ.get(FONT_DIRS_ENV, "").split(os.pathsep) if d]
    return (*extra, *SYSTEM_FONT_DIRS)


@functools.lru_cache(maxsize=8)
def font_index(dirs: tuple[str, ...]) -> dict[str, str]:
    """File name → full path of every font file under ``dirs`` (first folder wins)."""
    index: dict[str, str] = {}
    for folder in dirs:
        if not os.path.isdir(folder):
            continue
        for root, _subdirs, files in sorted(os.walk(folder)):
            for name in sorted(files):
                if name.lower().endswith(_FONT_SUFFIXES):
                    index.setdefault(name, os.path.join(root, name))
    return index


@dataclass(frozen=True)
class FaceInfo:
    """What the layout needs to know about one face."""

    cmap: frozenset[int]
    family: str
    line_height: float


@functools.lru_cache(maxsize=4096)
def face_info(path: str, index: int) -> FaceInfo | None:
    """Character map, family name and line height of one face; None if unreadable."""
    try:
        if path.lower().endswith(".ttc"):
            collection = TTCollection(path, lazy=True)
            if index >= len(collection.fonts):
                return None
            font = collection.fonts[index]
        else:
            font = TTFont(path, lazy=True, fontNumber=index)
        cmap = frozenset(font.getBestCmap() or {})
        family = font["name"].getBestFamilyName() or Path(path).stem
        upm = font["head"].unitsPerEm
        hhea = font["hhea"]
        natural = (hhea.ascent - hhea.descent + hhea.lineGap) / upm
    except Exception:  # a broken font file is skipped, not fatal
        return None
    # Tall scripts (Nastaliq ~2.5 em, Tibetan ~2.8 em) declare huge extents; most of it is
    # headroom for rare stacks. 0.85 of it keeps real text apart without wasting the frame.
    line_height = min(2.4, max(1.3, natural * 0.85))
    return FaceInfo(cmap, str(family), round(line_height, 3))


def face_covers(path: str, index: int, code_points: Iterable[int]) -> bool:
    info = face_info(path, index)
    return info is not None and all(cp in info.cmap for cp in code_points)


def _is_italic(name: str) -> bool:
    """By the style after the family's dash: "NotoSansOldItalic-Regular" is upright."""
    style = name.rsplit(".", 1)[0].rpartition("-")[2].lower() if "-" in name else ""
    return "italic" in style or "oblique" in style


def _weight_rank(stem: str, bold: bool) -> int:
    """0 for the wanted weight (Regular or Bold), 1 for other plain names, 2 otherwise."""
    lowered = stem.lower()
    wanted = "-bold" if bold else "-regular"
    if lowered.endswith(wanted) or (not bold and "-" not in lowered):
        return 0
    if lowered.endswith(("-regular", "-bold", "-book", "-roman", "-medium")) or "-" not in lowered:
        return 1
    return 2


def noto_family_faces(index: dict[str, str], bold: bool) -> Iterator[tuple[str, int]]:
    """One face per installed Noto family (Regular, or Bold, when there is one).

    Weights of a family share its character coverage, so checking one file per family keeps
    a full search to a few hundred character maps (under a second) instead of ~1,900 files.
    """
    families: dict[str, list[str]] = {}
    for name in sorted(index):
        if not name.lower().startswith("noto") or _is_italic(name):
            continue
        family = name.rsplit(".", 1)[0].split("-", 1)[0]
        families.setdefault(family, []).append(name)
    for _family, names in sorted(families.items()):
        best = min(names, key=lambda n: (_weight_rank(n.rsplit(".", 1)[0], bold), n))
        path = index[best]
        if best.lower().endswith(".ttc"):
            for face in range(5):
                yield path, face
        else:
            yield path, 0


@dataclass(frozen=True)
class _Charset:
    """A face's character set as sorted, disjoint ranges (fontconfig's form)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __contains__(self, cp: object) -> bool:
        if not isinstance(cp, int):
            return False
        i = bisect.bisect_right(self.starts, cp) - 1
        return i >= 0 and cp <= self.ends[i]


def _parse_charset(text: str) -> _Charset:
    starts: list[int] = []
    ends: list[int] = []
    for item in text.split():
        first, _, last = item.partition("-")
        try:
            a = int(first, 16)
            b = int(last, 16) if last else a
        except ValueError:
            continue
        starts.append(a)
        ends.append(b)
    order = sorted(range(len(starts)), key=starts.__getitem__)
    return _Charset(tuple(starts[i] for i in order), tuple(ends[i] for i in order))


@functools.cache
def _fontconfig_charsets() -> dict[tuple[str, int], _Charset]:
    """(file, face) → character set, for every font fontconfig knows; empty without it."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return {}
    try:
        proc = subprocess.run(
            [fc_list, "--format", "%{file}\t%{index}\t%{charset}\n"],
            capture_output=True, text=True, timeout=60, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    out: dict[tuple[str, int], _Charset] = {}
    for line in proc.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        out[(os.path.realpath(parts[0]), int(parts[1]))] = _parse_charset(parts[2])
    return out


@functools.lru_cache(maxsize=8)
def _other_faces(dirs: tuple[str, ...], bold: bool) -> tuple[tuple[str, int], ...]:
    """Every non-Noto face under ``dirs``, upright faces of the wanted weight first."""
    faces_of: dict[str, list[int]] = {}
    for real, face in _fontconfig_charsets():
        faces_of.setdefault(real, []).append(face)
    faces: list[tuple[tuple[int, int, str], str, int]] = []
    for name, path in font_index(dirs).items():
        if name.lower().startswith("noto"):
            continue  # every Noto family was tried already
        rank = (int(_is_italic(name)), _weight_rank(name.rsplit(".", 1)[0], bold), path)
        for face in sorted(faces_of.get(os.path.realpath(path), [0])):
            faces.append((rank, path, face))
    return tuple((path, face) for _rank, path, face in sorted(faces))


@functools.lru_cache(maxsize=4096)
def any_face_with(cp: int, dirs: tuple[str, ...], bold: bool) -> tuple[str, int] | None:
    """The first installed face outside the Noto families with a glyph for ``cp``.

    Uses fontconfig's character sets when fontconfig knows the file, else the file's own
    character map.
    """
    known = _fontconfig_charsets()
    for path, face in _other_faces(dirs, bold):
        charset = known.get((os.path.realpath(path), face))
        has = cp in charset if charset is not None else face_covers(path, face, (cp,))
        if has and face_info(path, face) is not None:
            return path, face
    return None


@functools.cache
def _installed(package: str) -> bool | None:
    """Whether a Debian package is installed; None where dpkg cannot say."""
    dpkg_query = shutil.which("dpkg-query")
    if dpkg_query is None:
        return None
    try:
        proc = subprocess.run(
            [dpkg_query, "-W", "-f=${Status}", package],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.returncode == 0 and "install ok installed" in proc.stdout


def package_for(ch: str, *, emoji: bool = False) -> str:
    """The Debian package that would add a glyph for ``ch``."""
    if emoji:
        return EMOJI_PACKAGE
    script = script_of(ch)
    if script in CJK_SCRIPTS:
        return "fonts-noto-cjk"
    if script in LATIN_LIKE or script in NOTO_CORE_SCRIPTS:
        return "fonts-noto-core"
    return UNIFONT_PACKAGE


def install_hint(chars: Iterable[str], *, emoji: bool = False) -> str:
    """What to install for ``chars``; a package already installed is never advised as the
    remedy (it would not help)."""
    wanted = sorted({package_for(ch, emoji=emoji) for ch in chars})
    useful = [p for p in wanted if _installed(p) is not True]
    if useful:
        names = " ".join(useful)
        return f"Install the Debian package {' and '.join(useful)} (apt-get install {names})."
    return (f"{' and '.join(wanted)} {'is' if len(wanted) == 1 else 'are'} installed, yet no "
            f"font in the searched folders has them: install a font that has them and add "
            f"its folder to {FONT_DIRS_ENV}.")


def describe(chars: Iterable[str]) -> str:
    """'"." U+002E FULL STOP (Common), "𐕰" U+10570 ...' for an error message."""
    import unicodedata

    parts = []
    for ch in chars:
        name = unicodedata.name(ch, "")
        label = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
        parts.append(f"'{ch}' {label} ({script_name(script_of(ch))})")
    return ", ".join(parts)



def clear_caches() -> None:
    """Forget the indexed folders and what was read from them."""
    font_index.cache_clear()
    face_info.cache_clear()
    any_face_with.cache_clear()
    _other_faces.cache_clear()
    _fontconfig_charsets.cache_clear()

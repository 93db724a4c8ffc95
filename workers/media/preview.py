"""A still preview of a clip in an output format with a caption, for the review page.

Staff check framing, the caption's script and size before they compile. The picture is fitted
exactly as the renderer fits it (same filter), then the caption block is drawn over it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from workers.media import cards, ffmpeg, probe
from workers.media.errors import MediaError
from workers.media.render import fit_filter
from workers.media.style import FORMATS, Brand

MAX_LINES = 2


def _lines(texts: Sequence[str], wrap: Callable[[str], list[str]]) -> list[str]:
    """The first cue's worth of lines: sentences wrapped as the renderer wraps them."""
    lines: list[str] = []
    for text in texts:
        if text.strip():
            lines += wrap(text.strip())
        if len(lines) >= MAX_LINES:
            break
    return lines[:MAX_LINES]


def preview_frame(
    clip_file: Path,
    at_seconds: float,
    frame_name: str,
    native_lines: Sequence[str],
    native_language: str,
    translation_lines: Sequence[str] | None,
    translation_language: str | None,
    out_jpg: Path,
    *,
    brand: Brand | None = None,
) -> Path:
    """Write a JPEG: the clip's picture at ``at_seconds`` in ``frame_name`` with a caption.

    ``native_lines``/``translation_lines`` may be whole sentences: they are wrapped the way
    the renderer wraps them and the first cue's worth (two lines each) is shown.
    """
    frame = FORMATS[frame_name]
    brand = brand or Brand()
    info = probe.probe(Path(clip_file))
    if info.video is None:
        raise MediaError("the file has no video track", code="no_video",
                               subject=str(clip_file))
    at = min(max(0.0, at_seconds), max(0.0, info.duration - 0.1))
    with tempfile.TemporaryDirectory(prefix="chorus-preview-") as tmp_name:
        tmp = Path(tmp_name)
        still = tmp / "still.png"
        graph = "[0:v:0]null[v];" + fit_filter(frame, info.video.display_width,
                                               info.video.display_height, fill="blur",
                                               brand=brand)
        ffmpeg.run([*ffmpeg.untrusted_input(Path(clip_file), seek=at),
                    "-filter_complex", graph, "-map", "[fit]", "-frames:v", "1",
                    "-map_metadata", "-1", "-y", str(still)],
                   timeout=60, what="preview frame", subject=str(clip_file))
        image = Image.open(still).convert("RGBA")
        native_text = " ".join(native_lines)
        translation_text = " ".join(translation_lines or [])
        if native_text.strip():
            native_fit, translation_fit = cards.caption_fitters(
                frame, native_text, native_language, translation_text or None,
                translation_language if translation_text else None)
            native = _lines(native_lines, native_fit.wrap)
            translation = (_lines(translation_lines or [], translation_fit.wrap)
                           if translation_fit else [])
            overlay = cards.render_caption(frame, native, native_language, translation,
                                           translation_language, tmp / "caption.png")
            with Image.open(overlay.path) as caption:
                image.alpha_composite(caption.convert("RGBA"), (overlay.x, overlay.y))
        out_jpg.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(out_jpg, "JPEG", quality=85)
    return out_jpg

"""A still of a clip as the compile will draw it, for the review page.

Staff check framing, the caption's script and size, and the lower third before they compile.
The still is made from the same pieces as the clip's segment: the picture fitted by the
renderer's own filter, the same cues (:func:`~workers.media.overlays.clip_cues`) and the
same overlay images (:func:`~workers.media.overlays.clip_overlays`), keeping only those the
segment shows at that moment. What it leaves out is the brand-colour dip over the segment's
first and last few frames.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from PIL import Image

from workers.media import ffmpeg
from workers.media.campaign import Campaign
from workers.media.errors import MediaError
from workers.media.overlays import clip_cues, clip_overlays
from workers.media.prepare import PreparedClip
from workers.media.render import fit_filter
from workers.media.style import FORMATS, FPS


def preview_time(at: float, prepared: PreparedClip) -> int:
    """The frame shown ``at`` seconds into the clip (as compiled: after its trim), clamped
    to the clip. Raises :class:`MediaError` for a time that is not a number of seconds."""
    if not math.isfinite(at) or at < 0:
        raise MediaError(f"the time {at!r} is not a number of seconds from the clip's start",
                         code="bad_time")
    last = max(0, prepared.frames - 1)
    return min(round(min(at, last / FPS) * FPS), last)


def preview_frame(campaign: Campaign, prepared: PreparedClip, frame_number: int,
                  frame_name: str, out_jpg: Path) -> Path:
    """Write a JPEG of the clip's frame ``frame_number`` in format ``frame_name``, with the
    caption cue and lower third the compiled segment shows on that frame."""
    frame = FORMATS[frame_name]
    spec = prepared.spec
    at = frame_number / FPS
    cues = clip_cues(campaign, spec, prepared, frame)
    with tempfile.TemporaryDirectory(prefix="chorus-preview-") as tmp_name:
        tmp = Path(tmp_name)
        still = tmp / "still.png"
        graph = "[0:v:0]null[v];" + fit_filter(frame, prepared.width, prepared.height,
                                               fill="blur", brand=campaign.brand)
        ffmpeg.run([*ffmpeg.untrusted_input(spec.file, seek=prepared.trim_start + at),
                    "-filter_complex", graph, "-map", "[fit]", "-frames:v", "1",
                    "-map_metadata", "-1", "-y", str(still)],
                   timeout=60, what="preview frame", subject=str(spec.file))
        image = Image.open(still).convert("RGBA")
        for item in clip_overlays(campaign, spec, prepared.duration, cues, frame, tmp, at=at):
            with Image.open(item.overlay.path) as drawn:
                image.alpha_composite(drawn.convert("RGBA"), (item.overlay.x, item.overlay.y))
        out_jpg.parent.mkdir(parents=True, exist_ok=True)
        image.convert("RGB").save(out_jpg, "JPEG", quality=90)
    return out_jpg

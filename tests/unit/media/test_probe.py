"""probe() and validate() on real generated clips of every input kind phones and browsers make."""

from pathlib import Path

import pytest

from tests.fixtures import media
from workers.media.probe import MediaInfo, Policy, probe, validate

SHORT = "Stay at home."

# name: (make_clip keyword arguments, expected facts)
KINDS = {
    "h264_aac.mp4": ({}, {"codec": "h264", "size": (640, 360), "rotation": 0, "fps": 30,
                          "acodec": "aac", "channels": 1}),
    "hevc_portrait_rot90.mov": (
        {"container": "mov", "vcodec": "hevc", "size": (360, 640), "rotate": 90,
         "acodec": "pcm_s16le", "channels": 2},
        {"codec": "hevc", "size": (640, 360), "rotation": 90, "display": (360, 640),
         "orientation": "portrait", "acodec": "pcm_s16le", "channels": 2}),
    "h264_rot270.mp4": (
        {"size": (360, 640), "rotate": 270},
        {"rotation": 270, "display": (360, 640), "orientation": "portrait"}),
    "vp9_opus_51_24fps.webm": (
        {"container": "webm", "vcodec": "vp9", "acodec": "opus", "channels": 6, "fps": 24},
        {"codec": "vp9", "fps": 24, "acodec": "opus", "channels": 6}),
    "av1_opus.webm": (
        {"container": "webm", "vcodec": "av1", "acodec": "opus", "channels": 2},
        {"codec": "av1", "acodec": "opus", "channels": 2}),
    "vp8_opus_60fps.webm": (
        {"container": "webm", "vcodec": "vp8", "acodec": "opus", "fps": 60},
        {"codec": "vp8", "fps": 60, "acodec": "opus"}),
    "vfr.mp4": ({"vfr": True}, {"vfr": True}),
    "aac_8k.mp4": ({"audio_rate": 8000}, {"sample_rate": 8000}),
    "aac_441_stereo.mov": ({"container": "mov", "audio_rate": 44100, "channels": 2},
                           {"sample_rate": 44100, "channels": 2}),
    "square.mp4": ({"size": (480, 480)}, {"orientation": "square"}),
}


@pytest.fixture(scope="module")
def clips(media_dir: Path) -> dict[str, Path]:
    out = {}
    for name, (kwargs, _facts) in KINDS.items():
        out[name] = media.make_clip(media_dir / "probe" / name, speech_text=SHORT,
                                    lead_silence=0.3, tail_silence=0.3, **kwargs)
    return out


@pytest.mark.media
@pytest.mark.parametrize("name", list(KINDS))
def test_probe_every_input_kind(clips: dict[str, Path], name: str) -> None:
    _, facts = KINDS[name]
    path = clips[name]
    info = probe(path)
    truth = media.ffprobe(path)  # the fixture's own reading, without the wrapper
    assert isinstance(info, MediaInfo) and info.video and info.audio
    assert info.duration == pytest.approx(float(truth["format"]["duration"]), abs=0.05)
    assert info.duration_from_header
    v, a = info.video, info.audio
    assert v.codec == facts.get("codec", "h264")
    assert (v.width, v.height) == facts.get("size", (v.width, v.height))
    assert v.rotation == facts.get("rotation", 0)
    assert (v.display_width, v.display_height) == facts.get(
        "display", (v.display_width, v.display_height))
    assert v.orientation == facts.get("orientation", "landscape")
    assert v.variable_frame_rate is facts.get("vfr", False)
    if not facts.get("vfr"):
        assert v.fps == pytest.approx(facts.get("fps", 30), abs=0.01)
    assert a.codec == facts.get("acodec", "aac")
    assert a.channels == facts.get("channels", 1)
    if a.codec != "opus":  # Opus always decodes at 48 kHz
        assert a.sample_rate == facts.get("sample_rate", 48000)
    assert validate(info) == []
    # the fixture's picture really is upright once ffmpeg applies the rotation
    rgb, w, h = media.decode_frame(path, 0.2)
    assert (w, h) == (v.display_width, v.display_height)
    assert media.is_upright(media.picture_marks(rgb, w, h))


@pytest.mark.media
def test_mediarecorder_webm_duration_is_measured(media_dir: Path) -> None:
    path = media.mediarecorder_webm(media_dir / "probe" / "recorder.webm", speech_text=SHORT)
    assert "duration" not in media.ffprobe(path)["format"]  # like a browser's file
    info = probe(path)
    assert not info.duration_from_header
    assert info.video and info.video.codec == "vp8" and info.audio
    assert info.audio.codec == "opus"
    # the same stream remuxed to a seekable file has a header duration to compare with
    fixed = media_dir / "probe" / "recorder-remuxed.mkv"
    media._ffmpeg("-i", str(path), "-c", "copy", str(fixed))
    assert info.duration == pytest.approx(float(media.ffprobe(fixed)["format"]["duration"]),
                                          abs=0.06)
    assert info.duration > 1.0
    assert validate(info) == []


@pytest.mark.media
def test_validate_no_audio(media_dir: Path) -> None:
    info = probe(media.make_clip(media_dir / "probe" / "mute.mp4", acodec=None, duration=2))
    assert info.audio is None
    assert [p.code for p in validate(info)] == ["no_audio"]


@pytest.mark.media
def test_validate_too_short(media_dir: Path) -> None:
    info = probe(media.make_clip(media_dir / "probe" / "blink.mp4", silent=True,
                                 duration=0.5))
    problems = validate(info)
    assert [p.code for p in problems] == ["too_short"]
    assert "at least 1 s" in problems[0].message


@pytest.mark.media
def test_validate_too_long_default_policy(media_dir: Path) -> None:
    """Over the default 3 minutes (a 1 fps picture at the smallest size allowed keeps this fast)."""
    path = media_dir / "probe" / "long.mp4"
    media._ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=320x240:r=1:d=181", "-f", "lavfi",
                  "-i", "anullsrc=r=8000:cl=mono", "-t", "181", "-c:v", "libx264",
                  "-preset", "ultrafast", "-c:a", "aac", str(path))
    info = probe(path)
    problems = validate(info)
    assert [p.code for p in problems] == ["too_long"]
    assert "limit is 180 s" in problems[0].message
    assert validate(info, Policy(max_duration=300)) == []


@pytest.mark.media
def test_validate_oversize_resolution(clips: dict[str, Path]) -> None:
    info = probe(clips["h264_aac.mp4"])
    problems = validate(info, Policy(max_width=320, max_height=320))
    assert [p.code for p in problems] == ["resolution_too_high"]
    assert "640x360" in problems[0].message


@pytest.mark.media
def test_silent_clip_probes(media_dir: Path) -> None:
    """Silence is a sound track: probe accepts it (finding no speech is the VAD's job)."""
    info = probe(media.make_clip(media_dir / "probe" / "silent.webm", container="webm",
                                 vcodec="vp8", acodec="opus", silent=True, duration=1.5))
    assert info.audio and info.audio.codec == "opus"
    assert info.duration == pytest.approx(1.5, abs=0.05)


@pytest.mark.media
def test_a_truncated_mp4_with_its_index_first_is_refused(tmp_path: Path) -> None:
    """The moov (first) still describes every sample: only decoding the end shows the cut."""
    from tests.fixtures.hostile import lavfi_clip
    from workers.media.errors import MediaError

    whole = lavfi_clip(tmp_path / "whole.mp4", duration=6.0, extra=("-movflags", "+faststart"))
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 4])
    assert probe(whole).duration == pytest.approx(6.0, abs=0.1)
    with pytest.raises(MediaError) as info:
        probe(cut)
    assert info.value.code == "truncated"
    assert "says it lasts 6.0 s" in info.value.message


@pytest.mark.media
def test_a_picture_below_the_minimum_is_refused(tmp_path: Path) -> None:
    from tests.fixtures.hostile import lavfi_clip

    info = probe(lavfi_clip(tmp_path / "tiny.mp4", size="2x2", duration=2.0))
    problems = validate(info)
    assert [p.code for p in problems] == ["resolution_too_low"]
    assert "at least 240 lines" in problems[0].message
    assert validate(info, Policy(min_lines=2)) == []

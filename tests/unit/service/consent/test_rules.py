"""The consent rule: purposes, withdrawal, erased rows, channels, and outputs mapped to them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from service.consent import service as consent
from service.models import utcnow
from service.renders.plan import ClipPlan
from workers.stages.join import consent_groups


def _row(channels, *, withdrawn=False, erased=False, days_ago=0):
    return SimpleNamespace(channels=channels, agreed_at=utcnow() - timedelta(days=days_ago),
                           withdrawn_at=utcnow() if withdrawn else None,
                           erased_at=utcnow() if erased else None)


def test_decide_covers_purposes_withdrawal_erasure_and_channels() -> None:
    assert consent.decide([], "compile").code == "no_consent"
    assert consent.decide([_row(["all"])], "broadcast").code == "bad_purpose"
    assert consent.decide([_row(["whatsapp"])], "compile")
    assert consent.decide([_row(["whatsapp"])], "publish", ["whatsapp"])
    no = consent.decide([_row(["whatsapp"])], "publish", ["youtube"])
    assert not no and no.code == "channel_not_agreed" and no.channels == ("whatsapp",)
    assert consent.decide([_row(["all"])], "publish", ["youtube", "tiktok"])
    # a withdrawal anywhere wins over a later agreement; erased rows cover nothing
    assert consent.decide([_row(["all"], days_ago=2), _row(["all"], withdrawn=True)],
                          "review").code == "withdrawn"
    assert consent.decide([_row(["all"], erased=True)], "compile").code == "no_consent"
    # the newest agreement's channels count
    assert consent.decide([_row(["all"], days_ago=5), _row(["whatsapp"])], "publish",
                          ["youtube"]).code == "channel_not_agreed"


def test_every_output_name_maps_to_its_channels() -> None:
    assert consent.output_channels("video-landscape.mp4") == ("youtube", "website")
    assert consent.output_channels("poster-portrait.jpg") == ("instagram", "tiktok")
    assert consent.output_channels("cuts/ur-square.mp4") == ("whatsapp",)
    assert consent.output_channels("subtitles/ur.srt") == ()
    assert consent.output_channels("report.json") == ()
    assert consent.clips_for_output("video-square.mp4", {"a": ("all",), "b": ("facebook",),
                                                          "c": ("facebook", "x")}) == ["a", "c"]


def _plan(clip_id: str, channels: tuple[str, ...], language: str = "en") -> ClipPlan:
    return ClipPlan(clip_id=clip_id, index=1, original_key="k", original_filename="f",
                    language=language, language_name=None, speaker="s", role="r",
                    sentences=("a",), translation=None, trim=None, cues=None,
                    channels=channels)


def test_outputs_are_grouped_by_the_clips_allowed_in_them() -> None:
    everyone = (_plan("a", ("all",)), _plan("b", ("all",)))
    [one] = consent_groups(("landscape", "portrait"), everyone)
    assert one.formats == {"landscape", "portrait"} and one.cuts and one.companions
    mixed = (_plan("a", ("all",)), _plan("w", ("whatsapp",)), _plan("y", ("youtube",
                                                                        "website")))
    groups = consent_groups(("landscape", "portrait"), mixed)
    by_ids = {tuple(c.clip_id for c in g.clips): g for g in groups}
    assert set(by_ids) == {("a", "y"), ("a",), ("a", "w")}
    assert by_ids[("a", "y")].formats == {"landscape"} and by_ids[("a", "y")].companions
    assert by_ids[("a",)].formats == {"portrait"}
    assert by_ids[("a", "w")].cuts and not by_ids[("a", "w")].formats
    assert by_ids[("a", "w")].takes("cuts/en-portrait.mp4")
    assert not by_ids[("a", "w")].takes("video-portrait.mp4")
    assert consent.left_out(("landscape",), {"w": ("whatsapp",), "y": ("youtube",)}) == {
        "w": ["video-landscape.mp4"], "y": ["video-landscape.mp4", "cuts/"]}

"""HTTP routes for clips: staff upload (with consent), review pages and the clips JSON API.

Viewers read and play; editors and admins upload, approve, reject, trim and edit text and
caption timing. Every clip and campaign is looked up within the user's organisation (another
organisation's id is a 404). Forms post with the CSRF token (checked by the role deps).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import Response

from service.campaigns.endpoints import load_campaign
from service.clips import repository, service
from service.clips.reasons import REASON_LABELS, REJECT_REASONS
from service.clips.schemas import (
    ClipOut,
    ConsentOut,
    CuesIn,
    ReviewIn,
    StaffUploadIn,
    TextIn,
    TrimIn,
)
from service.clips.web import render, static_file, stream_object
from service.consent import service as consent
from service.i18n import CHANNEL_LABELS
from service.models import Clip, Leader, User
from service.text import TextRejected, check_text
from service.web.deps import ROLE_RANK, AppSettings, DbSession, EditorUser, Form, Store, ViewerUser
from service.web.errors import NotFound, WebError
from workers.media import outputs as output_names
from workers.media.probe import Policy
from workers.media.style import DEFAULT_FORMAT, FORMATS

router = APIRouter()
api = APIRouter(prefix="/api", tags=["clips"])


def _load_clip(db: Session, user: User, clip_id: str) -> Clip:
    clip = repository.get_clip(db, user.organisation_id, clip_id)
    if clip is None:
        raise NotFound("There is no such clip in your organisation.")
    return clip


def _web_error(exc: service.ClipError) -> WebError:
    return WebError(exc.message, code=exc.code, status_code=exc.status_code)


def clip_out(db: Session, clip: Clip) -> ClipOut:
    consents = repository.consents_for(db, clip)
    return ClipOut(
        id=clip.id, campaign_id=clip.campaign_id, language=clip.language, status=clip.status,
        source=clip.source, speaker_name=clip.speaker_name, speaker_role=clip.speaker_role,
        original_filename=clip.original_filename, content_type=clip.content_type,
        size_bytes=clip.size_bytes, duration=clip.duration, trim_start=clip.trim_start,
        trim_end=clip.trim_end, sentences=clip.sentences, translation=clip.translation,
        caption_cues=clip.caption_cues, reject_reason_code=clip.reject_reason_code,
        reject_note=clip.reject_note, error_code=clip.error_code, probe=clip.probe,
        has_consent=repository.has_valid_consent(db, clip),
        consents=[ConsentOut(
            id=c.id, method=c.method, agreed_at=c.agreed_at, wording_version=c.wording_version,
            wording_language=c.wording_language, channels=list(c.channels or []),
            shows_role_agreed=c.shows_role_agreed, note=c.note, withdrawn_at=c.withdrawn_at,
        ) for c in consents],
        original_url=f"/clips/{clip.id}/original",
        created_at=clip.created_at,
    )


def _can_edit(user: User) -> bool:
    return ROLE_RANK.get(user.role, -1) >= ROLE_RANK["editor"]


# --- static -----------------------------------------------------------------------------------


@router.get("/clips/static/{name}", include_in_schema=False)
def clips_static(name: str) -> FileResponse:
    return static_file("clips", name)


# --- pages ------------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}/clips", include_in_schema=False)
def clips_page(request: Request, campaign_id: str, db: DbSession, user: ViewerUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    clips = repository.campaign_clips(db, campaign.id)
    consented = {c.id for c in clips if repository.has_valid_consent(db, c)}
    leaders = db.query(Leader).filter_by(organisation_id=user.organisation_id).order_by(
        Leader.name).all()
    return render(request, "clips/list.html", {
        "campaign": campaign, "clips": clips, "consented": consented,
        "can_edit": _can_edit(user), "leaders": leaders,
        "languages": [cl.language for cl in campaign.languages] or [campaign.language],
    })


@router.get("/clips/{clip_id}", include_in_schema=False)
def review_page(request: Request, clip_id: str, db: DbSession, user: ViewerUser) -> Response:
    clip = _load_clip(db, user, clip_id)
    campaign = load_campaign(db, user, clip.campaign_id)
    out = clip_out(db, clip)
    shown = repository.text_of(clip, repository.campaign_text(db, campaign))
    texts = list(shown.native or ("",) * len(campaign.sentences))
    cues = clip.caption_cues or []
    rows = [{"text": t, "start": cues[i]["start"] if i < len(cues) else "",
             "end": cues[i]["end"] if i < len(cues) else ""} for i, t in enumerate(texts)]
    return render(request, "clips/review.html", {
        "clip": out, "campaign": campaign, "can_edit": _can_edit(user),
        "reasons": REASON_LABELS, "reason_messages": REJECT_REASONS, "cue_rows": rows,
        "script": [s.text for s in campaign.sentences],
        "error": request.query_params.get("error"),
        "channel_labels": CHANNEL_LABELS, "output_rows": _output_rows(db, clip, campaign),
        "is_admin": user.role == "admin",
    })


def _output_rows(db: Session, clip: Clip, campaign: Any) -> list[dict[str, Any]]:
    """For the review page: each output of the campaign, its channels, and this clip's place."""
    decision = consent.may_use(db, clip, "compile")
    if not decision:
        return []
    formats = list(campaign.formats or ["landscape"])
    names = [output_names.video(f) for f in formats] + [output_names.cut(clip.language, f)
                                                         for f in formats]
    return [{"output": name, "channels": consent.output_channels(name),
             "allowed": consent.covers(decision.channels, consent.output_channels(name))}
            for name in names]


def _back(clip_id: str, error: str | None = None) -> RedirectResponse:
    url = f"/clips/{clip_id}" + (f"?error={error}" if error else "")
    return RedirectResponse(url, status_code=303)


def _floats(value: Any) -> float | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise WebError(f"'{text}' is not a number of seconds", code="bad_number") from None


def _text(field: str, value: str, *, multiline: bool = False) -> str:
    """A form's text checked by the one text rule (service/text.py), or a 422 naming it."""
    try:
        return check_text(value, multiline=multiline, required=False)
    except TextRejected as exc:
        raise WebError(f"{field}: {exc}", code="invalid_text", status_code=422) from None


@router.post("/clips/{clip_id}/review", include_in_schema=False)
def review_post(clip_id: str, db: DbSession, user: EditorUser, form: Form) -> Response:
    clip = _load_clip(db, user, clip_id)
    try:
        if form.get("action") == "approve":
            service.approve(db, clip, actor=user)
        else:
            note = _text("note", str(form.get("note") or ""), multiline=True)
            service.reject(db, clip, str(form.get("reason_code") or ""), note, actor=user)
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return _back(clip.id)


@router.post("/clips/{clip_id}/trim", include_in_schema=False)
def trim_post(clip_id: str, db: DbSession, user: EditorUser, form: Form) -> Response:
    clip = _load_clip(db, user, clip_id)
    try:
        service.set_trim(db, clip, _floats(form.get("trim_start")), _floats(form.get("trim_end")),
                         actor=user)
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return _back(clip.id)


@router.post("/clips/{clip_id}/text", include_in_schema=False)
def text_post(clip_id: str, db: DbSession, user: EditorUser, form: Form) -> Response:
    clip = _load_clip(db, user, clip_id)
    campaign = load_campaign(db, user, clip.campaign_id)
    sentences = [_text("sentence", str(v)) for v in form.getlist("sentence")]
    translation = [_text("translation", str(v)) for v in form.getlist("translation")]
    try:
        service.set_text(db, clip, campaign, sentences, translation or None, actor=user)
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return _back(clip.id)


@router.post("/clips/{clip_id}/cues", include_in_schema=False)
def cues_post(clip_id: str, db: DbSession, user: EditorUser, form: Form) -> Response:
    clip = _load_clip(db, user, clip_id)
    starts, ends = form.getlist("cue_start"), form.getlist("cue_end")
    pairs = [(_floats(s), _floats(e)) for s, e in zip(starts, ends, strict=False)]
    from service.clips.schemas import CueIn

    try:
        cues = None if all(s is None and e is None for s, e in pairs) else [
            CueIn(start=s or 0.0, end=e or 0.0) for s, e in pairs]
        service.set_cues(db, clip, cues, actor=user)
    except ValidationError:
        raise WebError("every caption needs a start and an end in seconds",
                       code="bad_cues") from None
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return _back(clip.id)


@router.get("/clips/{clip_id}/original", include_in_schema=False)
def original(request: Request, clip_id: str, db: DbSession, user: ViewerUser,
             store: Store) -> Response:
    """The untouched original, for the review player (Range requests for seeking)."""
    clip = _load_clip(db, user, clip_id)
    content_type = clip.content_type if clip.content_type.startswith(("video/", "audio/")) \
        else "application/octet-stream"
    return stream_object(store, clip.original_key, content_type, request)


PREVIEWS_PER_CLIP = 24
"""Stills kept per clip (least recently shown go first), so a crawler of ``at`` values
cannot fill the disk."""


@router.get("/clips/{clip_id}/preview.jpg", include_in_schema=False)
def preview(request: Request, clip_id: str, db: DbSession, user: ViewerUser, store: Store,
            settings: AppSettings, at: float = 1.0, format: str = DEFAULT_FORMAT) -> Response:
    """The clip's frame ``at`` seconds after its trim start, as the compile will draw it
    (the cue and lower third showing then, the same layout, from the same code)."""
    clip = _load_clip(db, user, clip_id)
    campaign = load_campaign(db, user, clip.campaign_id)
    if consent.may_use(db, clip, "review").code == "withdrawn":
        raise WebError("Consent for this clip was withdrawn: no new preview is made of it.",
                       code="consent_withdrawn", status_code=409)
    if format not in FORMATS:
        raise WebError(f"There is no format '{format}'; choose {', '.join(FORMATS)}.",
                       code="bad_format", status_code=422)
    if not math.isfinite(at) or at < 0:
        raise WebError("The time to preview must be a number of seconds from the clip's "
                       "start (0 or more).", code="bad_time", status_code=422)
    if clip.status not in service.REVIEWABLE:
        raise WebError(f"This clip is '{clip.status}': it has no usable picture to preview"
                       + (f" ({clip.error_code})." if clip.error_code else "."),
                       code="not_previewable", status_code=409)
    from service.renders.outputs import engine_cache_dir
    from service.renders.plan import CompileRefused, clip_preview_plan, engine_campaign
    from workers.media.cache import recipe_key
    from workers.media.compile import prepare
    from workers.media.errors import MediaError
    from workers.media.preview import preview_frame, preview_time

    folder = Path(settings.data_dir) / "work" / "review" / clip.id
    folder.mkdir(parents=True, exist_ok=True)
    try:
        plan = clip_preview_plan(db, campaign, clip)
        engine = engine_campaign(plan, folder)
        spec = engine.clips[0]
        if not spec.file.exists() or spec.file.stat().st_size != clip.size_bytes:
            store.get_file(clip.original_key, spec.file)
        prepared = prepare(engine, spec, cache_dir=engine_cache_dir(settings.data_dir),
                           policy=Policy(max_duration=float(settings.max_clip_seconds),
                                         max_bytes=settings.max_upload_bytes))
        number = preview_time(at, prepared)
        key = recipe_key("preview", prepared.key, repr(spec), repr(engine.brand), format,
                         number)[:24]
        out = folder / f"preview-{key}.jpg"
        if out.exists():
            out.touch()
        else:
            partial = folder / f".{key}.part.jpg"
            preview_frame(engine, prepared, number, format, partial)
            partial.replace(out)
            _evict(folder, keep=PREVIEWS_PER_CLIP)
    except (CompileRefused, MediaError) as exc:
        raise WebError(f"No preview of this clip: {exc.message}", code=exc.code,
                       status_code=422) from None
    return FileResponse(out, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _evict(folder: Path, *, keep: int) -> None:
    """Remove all but the ``keep`` most recently shown stills."""
    stills = sorted(folder.glob("preview-*.jpg"), key=lambda p: p.stat().st_mtime_ns,
                    reverse=True)
    for old in stills[keep:]:
        old.unlink(missing_ok=True)


@router.post("/campaigns/{campaign_id}/clips/upload", include_in_schema=False)
async def upload_post(request: Request, campaign_id: str, db: DbSession, user: EditorUser,
                      store: Store, settings: AppSettings) -> Response:
    """Several files at once (multipart, streamed to storage), one consent record each."""
    campaign = load_campaign(db, user, campaign_id)
    form = await request.form(max_files=50, max_fields=100)
    try:
        meta = StaffUploadIn(
            language=str(form.get("language") or ""),
            speaker_name=str(form.get("speaker_name") or ""),
            speaker_role=str(form.get("speaker_role") or ""),
            leader_id=str(form.get("leader_id") or "") or None,
            consent_method=str(form.get("consent_method") or ""),  # type: ignore[arg-type]
            consent_date=str(form.get("consent_date") or ""),  # type: ignore[arg-type]
            consent_note=str(form.get("consent_note") or ""),
            shows_role_agreed=bool(form.get("shows_role_agreed")),
        )
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
        raise WebError(f"Please fill in: {fields} (how and when consent was obtained is "
                       "required for every upload).", code="bad_form", status_code=422) from None
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not files:
        raise WebError("Choose at least one file to upload.", code="no_files", status_code=422)
    created = []
    try:
        for upload in files:
            clip = service.staff_upload(db, settings, store, campaign, user, meta,
                                        upload.filename or "clip",
                                        upload.content_type or "", upload.file)
            created.append(clip)
    except service.ClipError as exc:
        for clip in created:  # nothing stored half-way: the rows roll back, objects go too
            store.delete(clip.original_key)
        raise _web_error(exc) from None
    if "application/json" in request.headers.get("accept", ""):
        from fastapi.responses import JSONResponse

        return JSONResponse({"clips": [c.id for c in created]}, status_code=201)
    return RedirectResponse(f"/campaigns/{campaign.id}/clips", status_code=303)


# --- JSON API ---------------------------------------------------------------------------------


@api.get("/campaigns/{campaign_id}/clips", response_model=list[ClipOut])
def api_list(campaign_id: str, db: DbSession, user: ViewerUser) -> list[ClipOut]:
    campaign = load_campaign(db, user, campaign_id)
    return [clip_out(db, c) for c in repository.campaign_clips(db, campaign.id)]


@api.get("/clips/{clip_id}", response_model=ClipOut)
def api_get(clip_id: str, db: DbSession, user: ViewerUser) -> ClipOut:
    return clip_out(db, _load_clip(db, user, clip_id))


@api.post("/clips/{clip_id}/review", response_model=ClipOut)
def api_review(clip_id: str, body: ReviewIn, db: DbSession, user: EditorUser) -> ClipOut:
    clip = _load_clip(db, user, clip_id)
    try:
        if body.action == "approve":
            service.approve(db, clip, actor=user)
        else:
            service.reject(db, clip, body.reason_code, body.note, actor=user)
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return clip_out(db, clip)


@api.put("/clips/{clip_id}/trim", response_model=ClipOut)
def api_trim(clip_id: str, body: TrimIn, db: DbSession, user: EditorUser) -> ClipOut:
    clip = _load_clip(db, user, clip_id)
    try:
        service.set_trim(db, clip, body.trim_start, body.trim_end, actor=user)
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return clip_out(db, clip)


@api.put("/clips/{clip_id}/text", response_model=ClipOut)
def api_text(clip_id: str, body: TextIn, db: DbSession, user: EditorUser) -> ClipOut:
    clip = _load_clip(db, user, clip_id)
    campaign = load_campaign(db, user, clip.campaign_id)
    try:
        service.set_text(db, clip, campaign, body.sentences, body.translation, actor=user)
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return clip_out(db, clip)


@api.put("/clips/{clip_id}/cues", response_model=ClipOut)
def api_cues(clip_id: str, body: CuesIn, db: DbSession, user: EditorUser) -> ClipOut:
    clip = _load_clip(db, user, clip_id)
    try:
        service.set_cues(db, clip, body.cues, actor=user)
    except service.ClipError as exc:
        raise _web_error(exc) from None
    return clip_out(db, clip)


@api.get("/reject-reasons")
def api_reasons(user: ViewerUser) -> dict[str, str]:
    """The coded reasons (English msgids; the leader side shows them translated)."""
    return dict(REJECT_REASONS)


router.include_router(api)

"""Campaign pages and JSON API: campaigns, their logo, and translations (typed or .po).

Every route is role-checked (viewer reads, editor changes, admin deletes) and every campaign
is looked up within the user's organisation: another organisation's campaign is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.responses import Response

from service.campaigns.forms import campaign_from_form, languages_text
from service.campaigns.po import export_po, import_po
from service.campaigns.repository import get_campaign, list_campaigns, translations_by_sentence
from service.campaigns.schemas import (
    FORMATS,
    CampaignIn,
    CampaignOut,
    LanguageOut,
    PoImportOut,
    SentenceOut,
    TranslationOut,
    TranslationsIn,
    TranslationsOut,
)
from service.campaigns.service import (
    MAX_LOGO_BYTES,
    CampaignError,
    TranslationChange,
    check_logo,
    create_campaign,
    language_label,
    save_translations,
    target_language,
    update_campaign,
)
from service.erasure.service import delete_campaign
from service.models import Campaign, User, new_id, utcnow
from service.storage import ObjectStore
from service.web.deps import (
    ROLE_RANK,
    AdminUser,
    AppSettings,
    DbSession,
    EditorUser,
    Form,
    Store,
    ViewerUser,
)
from service.web.errors import NotFound, WebError
from service.web.templating import render
from workers.media.style import DEFAULT_FORMAT

router = APIRouter()
api = APIRouter(prefix="/api/campaigns", tags=["campaigns"])


def load_campaign(db: DbSession, user: User, campaign_id: str) -> Campaign:
    """The user's organisation's campaign, or 404 (also for other organisations' ids)."""
    campaign = get_campaign(db, user.organisation_id, campaign_id)
    if campaign is None:
        raise NotFound("There is no such campaign in your organisation.")
    return campaign


def campaign_out(campaign: Campaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id, title=campaign.title, language=campaign.language,
        translation_language=campaign.translation_language, deadline=campaign.deadline,
        sentences=[SentenceOut(id=s.id, position=s.position, text=s.text)
                   for s in campaign.sentences],
        languages=[LanguageOut(language=row.language, language_name=row.language_name,
                               label=language_label(row.language, row.language_name))
                   for row in campaign.languages],
        formats=list(campaign.formats), intro_text=campaign.intro_text,
        outro_text=campaign.outro_text,
        logo_url=f"/campaigns/{campaign.id}/logo" if campaign.logo_key else None,
        brand_background=campaign.brand_background, brand_text=campaign.brand_text,
        brand_accent=campaign.brand_accent, status=campaign.status,
        created_at=campaign.created_at,
    )


def _store_logo(store: ObjectStore, campaign: Campaign, upload: StarletteUploadFile) -> None:
    data = upload.file.read(MAX_LOGO_BYTES + 1)  # never more than the limit and one byte
    content_type, ext = check_logo(data)
    key = f"campaigns/{campaign.id}/logo-{new_id()}.{ext}"
    store.put_bytes(key, data, content_type)
    campaign.logo_key = key


def _uploaded(value: Any) -> StarletteUploadFile | None:
    if isinstance(value, StarletteUploadFile) and value.filename:
        return value
    return None


def _form_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["formats"] = [v for v in form.getlist("formats") if isinstance(v, str)]
    return values


def _can_edit(user: User) -> bool:
    return ROLE_RANK[user.role] >= ROLE_RANK["editor"]


# ---------------------------------------------------------------- pages


@router.get("/campaigns", include_in_schema=False)
def campaigns_page(request: Request, db: DbSession, user: ViewerUser) -> Response:
    campaigns = list_campaigns(db, user.organisation_id)
    return render(request, "campaigns/list.html",
                  {"campaigns": campaigns, "can_edit": _can_edit(user),
                   "label": language_label})


def _form_page(request: Request, campaign: Campaign | None, values: dict[str, Any],
               errors: dict[str, str], status: int = 200) -> Response:
    return render(request, "campaigns/form.html",
                  {"campaign": campaign, "values": values, "errors": errors,
                   "all_formats": FORMATS}, status_code=status)


def _values_of(campaign: Campaign) -> dict[str, Any]:
    return {
        "title": campaign.title, "language": campaign.language,
        "translation_language": campaign.translation_language or "",
        "deadline": campaign.deadline.date().isoformat() if campaign.deadline else "",
        "sentences": "\n".join(s.text for s in campaign.sentences),
        "languages": languages_text(campaign), "formats": list(campaign.formats),
        "intro_text": campaign.intro_text or "", "outro_text": campaign.outro_text or "",
        "brand_background": campaign.brand_background, "brand_text": campaign.brand_text,
        "brand_accent": campaign.brand_accent,
    }


@router.get("/campaigns/new", include_in_schema=False)
def new_campaign_page(request: Request, user: EditorUser) -> Response:
    return _form_page(request, None, {"language": "en", "formats": [DEFAULT_FORMAT],
                                      "brand_background": "#1d3557", "brand_text": "#ffffff",
                                      "brand_accent": "#e9c46a"}, {})


@router.post("/campaigns/new", include_in_schema=False)
def create_campaign_page(request: Request, db: DbSession, user: EditorUser, form: Form,
                         store: Store) -> Response:
    values = _form_values(form)
    data, errors = campaign_from_form(values)
    if data is not None and data.deadline is not None and data.deadline <= utcnow():
        errors["deadline"] = "the deadline has already passed; choose a later date"
    logo = _uploaded(form.get("logo"))
    if logo is not None:
        try:
            check_logo(logo.file.read(MAX_LOGO_BYTES + 1))
            logo.file.seek(0)
        except CampaignError as exc:
            errors["logo"] = exc.message
    if data is None or errors:
        return _form_page(request, None, values, errors, status=422)
    campaign = create_campaign(db, user.organisation_id, data)
    if logo is not None:
        _store_logo(store, campaign, logo)
    return RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)


@router.get("/campaigns/{campaign_id}", include_in_schema=False)
def campaign_page(request: Request, campaign_id: str, db: DbSession,
                  user: ViewerUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    progress = {}
    for row in campaign.languages:
        translations = translations_by_sentence(db, campaign.id, row.language)
        progress[row.language] = sum(1 for t in translations.values() if t.status == "approved")
    return render(request, "campaigns/detail.html",
                  {"campaign": campaign, "can_edit": _can_edit(user), "progress": progress,
                   "label": language_label, "is_admin": user.role == "admin"})


@router.get("/campaigns/{campaign_id}/edit", include_in_schema=False)
def edit_campaign_page(request: Request, campaign_id: str, db: DbSession,
                       user: EditorUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    return _form_page(request, campaign, _values_of(campaign), {})


@router.post("/campaigns/{campaign_id}/edit", include_in_schema=False)
def update_campaign_page(request: Request, campaign_id: str, db: DbSession, user: EditorUser,
                         form: Form, store: Store) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    values = _form_values(form)
    data, errors = campaign_from_form(values)
    if data is None or errors:
        return _form_page(request, campaign, values, errors, status=422)
    logo = _uploaded(form.get("logo"))
    if logo is not None:
        try:
            check_logo(logo.file.read(MAX_LOGO_BYTES + 1))
            logo.file.seek(0)
        except CampaignError as exc:
            return _form_page(request, campaign, values, {"logo": exc.message}, status=422)
    update_campaign(db, campaign, data)
    if form.get("remove_logo") == "1":
        campaign.logo_key = None
    if logo is not None:
        _store_logo(store, campaign, logo)
    return RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)


@router.post("/campaigns/{campaign_id}/delete", include_in_schema=False)
def delete_campaign_page(campaign_id: str, db: DbSession, user: AdminUser, store: Store,
                         settings: AppSettings) -> Response:
    """Erase every clip (as an erasure would), keep the consent trail, delete the rest."""
    campaign = load_campaign(db, user, campaign_id)
    report = delete_campaign(db, settings, store, campaign, user)
    return RedirectResponse(f"/erasures/{report.id}", status_code=303)


@router.get("/campaigns/{campaign_id}/logo", include_in_schema=False)
def campaign_logo(campaign_id: str, db: DbSession, user: ViewerUser, store: Store) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    if not campaign.logo_key:
        raise NotFound("This campaign has no logo.")
    with store.open(campaign.logo_key) as handle:
        data = handle.read()
    media_type = "image/png" if campaign.logo_key.endswith(".png") else "image/jpeg"
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, max-age=300"})


def _translation_rows(db: DbSession, campaign: Campaign, language: str) -> list[TranslationOut]:
    existing = translations_by_sentence(db, campaign.id, language)
    rows = []
    for sentence in campaign.sentences:
        found = existing.get(sentence.id)
        rows.append(TranslationOut(
            sentence_id=sentence.id, position=sentence.position, source=sentence.text,
            text=found.text if found else "", status=found.status if found else "missing"))  # type: ignore[arg-type]
    return rows


def _translations_page(request: Request, db: DbSession, user: User, campaign: Campaign,
                       language: str, *, errors: dict[str, str] | None = None,
                       notice: str | None = None, status: int = 200) -> Response:
    row = _target(campaign, language)
    return render(request, "campaigns/translations.html", {
        "campaign": campaign, "language": language,
        "label": language_label(language, row.language_name),
        "rows": _translation_rows(db, campaign, language), "can_edit": _can_edit(user),
        "errors": errors or {},
        "messages": [{"kind": "ok", "text": notice}] if notice else [],
    }, status_code=status)


def _target(campaign: Campaign, language: str) -> Any:
    try:
        return target_language(campaign, language)
    except CampaignError as exc:
        raise NotFound(exc.message) from exc


@router.get("/campaigns/{campaign_id}/translations/{language}", include_in_schema=False)
def translations_page(request: Request, campaign_id: str, language: str, db: DbSession,
                      user: ViewerUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    return _translations_page(request, db, user, campaign, language)


@router.post("/campaigns/{campaign_id}/translations/{language}", include_in_schema=False)
def save_translations_page(request: Request, campaign_id: str, language: str, db: DbSession,
                           user: EditorUser, form: Form) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    _target(campaign, language)
    changes = []
    for sentence in campaign.sentences:
        text = form.get(f"text-{sentence.id}")
        if not isinstance(text, str):
            continue
        status = "approved" if form.get(f"approved-{sentence.id}") == "1" else "draft"
        changes.append(TranslationChange(sentence.id, text, status))
    try:
        count = save_translations(db, campaign, language, changes)
    except CampaignError as exc:
        return _translations_page(request, db, user, campaign, language,
                                  errors={"form": exc.message}, status=422)
    return _translations_page(request, db, user, campaign, language,
                              notice=f"Saved ({count} changed).")


def _po_response(db: DbSession, campaign: Campaign, language: str) -> Response:
    data = export_po(db, campaign, language)
    filename = f"chorus-{campaign.id[:8]}-{language}.po"
    return Response(data, media_type="text/x-gettext-translation; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/campaigns/{campaign_id}/translations/{language}/export.po",
            include_in_schema=False)
def export_po_page(campaign_id: str, language: str, db: DbSession, user: ViewerUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    _target(campaign, language)
    return _po_response(db, campaign, language)


@router.post("/campaigns/{campaign_id}/translations/{language}/import", include_in_schema=False)
def import_po_page(request: Request, campaign_id: str, language: str, db: DbSession,
                   user: EditorUser, form: Form) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    _target(campaign, language)
    upload = _uploaded(form.get("po_file"))
    if upload is None:
        return _translations_page(request, db, user, campaign, language,
                                  errors={"po_file": "choose a .po file to import"}, status=422)
    try:
        result = import_po(db, campaign, language, upload.file.read(),
                           approve=form.get("approve") == "1")
    except CampaignError as exc:  # raised before anything is stored: nothing to undo
        return _translations_page(request, db, user, campaign, language,
                                  errors={"po_file": exc.message}, status=422)
    return _translations_page(
        request, db, user, campaign, language,
        notice=f"Imported: {result.updated} updated, {result.unchanged} unchanged, "
               f"{result.empty} left empty in the file.")


# ---------------------------------------------------------------- JSON API


def _raise_invalid(exc: CampaignError) -> None:
    status = 404 if exc.code in ("unknown_language",) else 422
    raise WebError(exc.message, code=exc.code, status_code=status)


@api.get("", response_model=list[CampaignOut], summary="List campaigns")
def api_list(db: DbSession, user: ViewerUser) -> list[CampaignOut]:
    return [campaign_out(c) for c in list_campaigns(db, user.organisation_id)]


@api.post("", response_model=CampaignOut, status_code=201, summary="Create a campaign")
def api_create(data: CampaignIn, db: DbSession, user: EditorUser) -> CampaignOut:
    if data.deadline is not None and data.deadline <= utcnow():
        raise WebError("deadline: the deadline has already passed", code="invalid",
                       status_code=422)
    campaign = create_campaign(db, user.organisation_id, data)
    db.refresh(campaign)
    return campaign_out(campaign)


@api.get("/{campaign_id}", response_model=CampaignOut, summary="One campaign")
def api_get(campaign_id: str, db: DbSession, user: ViewerUser) -> CampaignOut:
    return campaign_out(load_campaign(db, user, campaign_id))


@api.put("/{campaign_id}", response_model=CampaignOut, summary="Replace a campaign's settings")
def api_update(campaign_id: str, data: CampaignIn, db: DbSession,
               user: EditorUser) -> CampaignOut:
    campaign = update_campaign(db, load_campaign(db, user, campaign_id), data)
    return campaign_out(campaign)


@api.delete("/{campaign_id}", status_code=204, summary="Delete a campaign (admin)")
def api_delete(campaign_id: str, db: DbSession, user: AdminUser, store: Store,
               settings: AppSettings) -> Response:
    delete_campaign(db, settings, store, load_campaign(db, user, campaign_id), user)
    return Response(status_code=204)


@api.put("/{campaign_id}/logo", response_model=CampaignOut, summary="Upload the logo")
def api_logo(campaign_id: str, file: UploadFile, db: DbSession, user: EditorUser,
             store: Store) -> CampaignOut:
    campaign = load_campaign(db, user, campaign_id)
    try:
        _store_logo(store, campaign, file)
    except CampaignError as exc:
        _raise_invalid(exc)
    return campaign_out(campaign)


@api.get("/{campaign_id}/translations/{language}", response_model=TranslationsOut,
         summary="Translations into one language")
def api_translations(campaign_id: str, language: str, db: DbSession,
                     user: ViewerUser) -> TranslationsOut:
    campaign = load_campaign(db, user, campaign_id)
    row = _target(campaign, language)
    return TranslationsOut(campaign_id=campaign.id, language=language,
                           label=language_label(language, row.language_name),
                           translations=_translation_rows(db, campaign, language))


@api.put("/{campaign_id}/translations/{language}", response_model=TranslationsOut,
         summary="Set translations (empty text removes one)")
def api_save_translations(campaign_id: str, language: str, data: TranslationsIn,
                          db: DbSession, user: EditorUser) -> TranslationsOut:
    campaign = load_campaign(db, user, campaign_id)
    row = _target(campaign, language)
    try:
        save_translations(db, campaign, language, [
            TranslationChange(t.sentence_id, t.text, t.status) for t in data.translations])
    except CampaignError as exc:
        _raise_invalid(exc)
    return TranslationsOut(campaign_id=campaign.id, language=language,
                           label=language_label(language, row.language_name),
                           translations=_translation_rows(db, campaign, language))


@api.get("/{campaign_id}/translations/{language}/po", summary="Export translations as .po",
         response_class=Response)
def api_export_po(campaign_id: str, language: str, db: DbSession, user: ViewerUser) -> Response:
    campaign = load_campaign(db, user, campaign_id)
    _target(campaign, language)
    return _po_response(db, campaign, language)


@api.post("/{campaign_id}/translations/{language}/po", response_model=PoImportOut,
          summary="Import translations from a .po file (all or nothing)")
def api_import_po(campaign_id: str, language: str, file: UploadFile, db: DbSession,
                  user: EditorUser, approve: bool = False) -> PoImportOut:
    campaign = load_campaign(db, user, campaign_id)
    _target(campaign, language)
    try:
        result = import_po(db, campaign, language, file.file.read(), approve=approve)
    except CampaignError as exc:
        raise WebError(exc.message, code=exc.code, status_code=422) from exc
    return PoImportOut(language=language, updated=result.updated, unchanged=result.unchanged,
                       empty=result.empty)


router.include_router(api)

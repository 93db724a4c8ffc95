"""The coded reasons for rejecting a clip, with English msgids for gettext.

The leader sees the reason in their language: the msgids are marked with ``N_`` (a no-op that
``pybabel extract`` finds by default), so S2's catalogs under ``locales/`` translate them, and
the leader page looks the text up by code with ``gettext(reject_message(code))``. Codes are
stable: stored on the clip, sent over the API, never reworded.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


REJECT_REASONS: dict[str, str] = {
    "hard_to_hear": N_("We could not hear you clearly. Please record again somewhere quiet, "
                       "close to the phone."),
    "too_dark": N_("The picture is too dark. Please record again facing a window or a light."),
    "face_not_visible": N_("We could not see your face. Please hold the phone at eye level "
                           "with your face in the middle."),
    "wrong_text": N_("Some of the message was missing or different. Please read the text "
                     "on the page again, sentence by sentence."),
    "wrong_language": N_("The recording is not in the language of your invitation."),
    "too_long": N_("The recording is too long. Please read only the message on the page."),
    "background": N_("Something in the background cannot be shown in the campaign. Please "
                     "record again in front of a plain wall."),
    "shaky": N_("The picture is shaky. Please rest the phone on something steady."),
    "other": N_("Please record again; the campaign team has left you a note."),
}

REASON_LABELS: dict[str, str] = {
    "hard_to_hear": N_("Hard to hear"),
    "too_dark": N_("Too dark"),
    "face_not_visible": N_("Face not visible"),
    "wrong_text": N_("Text missing or different"),
    "wrong_language": N_("Wrong language"),
    "too_long": N_("Too long"),
    "background": N_("Background not suitable"),
    "shaky": N_("Shaky picture"),
    "other": N_("Other (see note)"),
}
"""Short labels for staff (the reject form)."""


def is_reason(code: str) -> bool:
    return code in REJECT_REASONS


def reject_message(code: str) -> str:
    """The English msgid for a reason code (translate it with the leader's gettext)."""
    return REJECT_REASONS.get(code, REJECT_REASONS["other"])

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


#: Why a clip was refused by the checks (``Clip.error_code``), as the end of the leader's
#: sentence "There was a problem with your video: …". Every code the media library can give
#: a clip has one (a test reads the codes out of ``workers/media`` and checks every leader
#: locale translates each), so a leader never sees a raw code.
PROBLEM_REASONS: dict[str, str] = {
    "unreadable": N_("the file is damaged or could not be read"),
    "not_media": N_("the file is not a video"),
    "too_large": N_("the file is too large"),
    "no_video": N_("the file has no picture"),
    "no_audio": N_("the file has no sound"),
    "resolution_too_high": N_("the picture size is larger than we can use"),
    "resolution_too_low": N_("the picture is too small to use"),
    "too_short": N_("the video is too short"),
    "too_long": N_("the video is too long"),
    "too_many_streams": N_("the file holds more than one picture or sound track"),
    "truncated": N_("the file is incomplete; it may have been cut off while saving or "
                    "sending"),
    "unsafe_input": N_("the file refers to other files, so we did not open it"),
    "ffmpeg_failed": N_("we could not process it"),
    "timeout": N_("checking it took too long"),
    "ffmpeg_missing": N_("we could not check it because of a problem on our side"),
}
# Codes that say what went wrong on our side, not with the file: the general sentence.
PROBLEM_REASONS["media_error"] = PROBLEM_REASONS["ffmpeg_failed"]
PROBLEM_REASONS["font_missing"] = PROBLEM_REASONS["ffmpeg_failed"]


def problem_message(code: str | None) -> str:
    """The English msgid for a refusal code (an unknown code gets the general sentence)."""
    return PROBLEM_REASONS.get(code or "", PROBLEM_REASONS["ffmpeg_failed"])


def is_reason(code: str) -> bool:
    return code in REJECT_REASONS


def reject_message(code: str) -> str:
    """The English msgid for a reason code (translate it with the leader's gettext)."""
    return REJECT_REASONS.get(code, REJECT_REASONS["other"])

"""What makes a staff password acceptable: long enough and not easy to guess.

The guessability check is zxcvbn (the Python port of Dropbox's estimator, maintained on
PyPI): it ships the 30,000 most common passwords from real leaks plus English words and
names, and estimates how many guesses a password needs, seeing through repeats
("aaaaaaaaaa"), keyboard runs ("qwertyuiop"), dates and l33t substitutions. It works
offline, so no password ever leaves the server. A password is refused when it is shorter than
:data:`MIN_LENGTH`, appears in the common-password list, or would fall to fewer than 10^8
guesses (zxcvbn score below 3) — the person's own e-mail and name count as known words.
"""

from __future__ import annotations

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 1000
MIN_SCORE = 3
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])


class PasswordRejected(ValueError):
    """The password cannot be used; the message tells the person why and what to do."""


def check_password(password: str, *, email: str = "", name: str = "") -> None:
    """Raise :class:`PasswordRejected` if ``password`` is too short or too easy to guess."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(
            f"The password must be at least {MIN_LENGTH} characters long. A few unrelated "
            "words make a long password that is easy to remember.")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"The password must be at most {MAX_LENGTH} characters long.")
    if password.lower() in _COMMON:
        raise PasswordRejected(
            "This password is one of the most common passwords, so it is among the first an "
            "attacker tries. Choose another one.")
    known = [part for part in (email, email.split("@")[0], name, "chorus") if part]
    result = zxcvbn(password[:100], user_inputs=known)
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or ""
        reason = f" ({warning.rstrip('.')})" if warning else ""
        raise PasswordRejected(
            f"This password is too easy to guess{reason}. Use a longer one, for example three "
            "or four unrelated words.")

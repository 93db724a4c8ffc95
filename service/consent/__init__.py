"""Consent: the one answer to "may this clip be used for this purpose, on this channel"."""

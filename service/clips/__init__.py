"""Clips: staff upload with consent records, review (play, approve/reject, trim, text, timing)."""

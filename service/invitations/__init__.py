"""The leader's link pages: open an invite, consent, record, upload, see status, withdraw."""

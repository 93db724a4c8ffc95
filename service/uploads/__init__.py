"""Resumable uploads (tus 1.0.0) for leaders' recordings and staff uploads."""

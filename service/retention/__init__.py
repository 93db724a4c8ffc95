"""Retention: nothing is kept longer than the policy in the settings."""

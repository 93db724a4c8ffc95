"""Renders: start a compile of a campaign, follow its progress, download its outputs."""

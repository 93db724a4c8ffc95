"""Erasure of a person, a clip or a campaign from every place Chorus keeps them."""

"""Helpers shared by the stages: the object store, work folders, error codes for people."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.settings import Settings
from service.storage import ObjectStore, get_store

_stores: dict[int, ObjectStore] = {}


def store_for(settings: Settings) -> ObjectStore:
    """The object store for these settings (one per settings object, reused by threads)."""
    store = _stores.get(id(settings))
    if store is None:
        store = _stores[id(settings)] = get_store(settings)
    return store


def work_root(settings: Settings) -> Path:
    """Scratch space under the data folder; never shared with stored objects."""
    root = Path(settings.data_dir) / "work"
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_dir(settings: Settings) -> Path:
    """The shared, content-addressed segment cache of the compile engine."""
    path = Path(settings.data_dir) / "cache" / "segments"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def scratch(settings: Settings, *parts: str, keep: bool = False) -> Iterator[Path]:
    """A work folder ``work/<parts...>``, removed afterwards unless ``keep``."""
    path = work_root(settings).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)

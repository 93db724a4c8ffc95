"""`get_store(settings)`: the configured object store."""

from __future__ import annotations

from typing import Any

from service.storage.base import ObjectStore, StorageError


def _secret(value: Any) -> str | None:
    """Settings may hold secrets as pydantic `SecretStr`; boto3 wants plain text."""
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if callable(getter) else value) or None


def get_store(settings: Any) -> ObjectStore:
    """Build the store named by `settings.storage_backend` (`local` or `s3`)."""
    backend = getattr(settings, "storage_backend", "local")
    if backend == "local":
        from service.storage.local import LocalStore

        return LocalStore(settings.storage_root)
    if backend == "s3":
        from service.storage.s3 import S3Store

        return S3Store(
            settings.s3_bucket,
            endpoint_url=getattr(settings, "s3_endpoint_url", None),
            region=getattr(settings, "s3_region", None),
            access_key_id=_secret(getattr(settings, "s3_access_key_id", None)),
            secret_access_key=_secret(getattr(settings, "s3_secret_access_key", None)),
        )
    raise StorageError(f"unknown storage backend {backend!r} (use 'local' or 's3')")

"""Object storage for originals and compile outputs.

One protocol (`ObjectStore`), two implementations: `LocalStore` (a folder on disk, the
embedded default) and `S3Store` (boto3, any S3-compatible server). Both write an object whole
or not at all, so a reader never sees half a file. Originals are written once and never
modified: callers store a new key instead.
"""

from service.storage.base import (
    InvalidKeyError,
    ObjectNotFoundError,
    ObjectStore,
    StorageError,
    validate_key,
)
from service.storage.factory import get_store

__all__ = [
    "InvalidKeyError",
    "ObjectNotFoundError",
    "ObjectStore",
    "StorageError",
    "get_store",
    "validate_key",
]

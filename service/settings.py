"""One settings object for the whole service (environment prefix ``CHORUS_``).

Defaults work offline on one machine (SQLite, objects on local disk, in-process workers), so
``chorus serve`` runs with no configuration. A production deployment must set a real
``secret_key``: :func:`Settings.check_production` refuses the development default.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105 - the refused default


class Settings(BaseSettings):
    """Every setting of the service; read from ``CHORUS_*`` environment variables or ``.env``."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/chorus.db"
    data_dir: Path = Path("./var")
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEV_SECRET_KEY
    environment: Literal["development", "production"] = "development"

    storage_backend: Literal["local", "s3"] = "local"
    storage_root: Path = Path("./var/objects")
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    broker: Literal["inprocess", "redis", "rabbitmq"] = "inprocess"
    broker_url: str | None = None

    max_upload_bytes: int = Field(default=1024**3, gt=0)
    max_clip_seconds: int = Field(default=180, gt=0)
    upload_expiry_hours: int = Field(default=24, gt=0)
    invite_rate_limit_per_minute: int = Field(default=30, gt=0)
    worker_threads: int = Field(default=2, ge=0)

    # --- the pipeline at scale (service/queue.py checks these agree at start) ---------------
    worker_processes: int = Field(default=1, ge=1)
    """``chorus worker``: worker processes (each runs ``worker_threads`` threads)."""
    queue_prefix: str = Field(default="", pattern=r"^[A-Za-z0-9_-]*$")
    """Prefix of every queue name, so several deployments (or test runs) share one broker."""
    probe_time_limit_seconds: int = Field(default=300, gt=0)
    prepare_time_limit_seconds: int = Field(default=600, gt=0)
    """One clip's ``clip.prepare`` (analysis plus its segment in every format)."""
    join_time_limit_seconds: int = Field(default=900, gt=0)
    """A compile's ``compile.join`` (cards, joins, cuts, subtitles, report, upload)."""
    stage_max_retries: int = Field(default=3, ge=0)
    """Retries after a stage's first failure (then the stage is failed for good)."""
    retry_min_backoff_ms: int = Field(default=2_000, gt=0)
    retry_max_backoff_ms: int = Field(default=60_000, gt=0)
    stage_lease_seconds: float = Field(default=15.0, gt=0)
    """A running stage whose heartbeat is older than this is presumed dead and taken over."""
    redis_heartbeat_timeout_ms: int = Field(default=20_000, gt=0)
    """Redis: a worker silent this long is dead; its unacknowledged messages are requeued."""
    redis_maintenance_chance: int = Field(default=1_000_000, ge=1, le=1_000_000)
    """Redis: broker commands per million that run the requeue maintenance (1e6: every one)."""
    rabbitmq_consumer_timeout_ms: int = Field(default=1_800_000, gt=0)
    """RabbitMQ: the server's ``consumer_timeout`` (an unacked delivery older is cancelled)."""

    # --- consent, retention (service/retention) -------------------------------------------
    withdrawal_link_days: int = Field(default=3650, gt=0)
    """How long a leader's link keeps opening its withdrawal page (after it stops recording)."""
    retention_clip_days: int = Field(default=180, ge=0)
    """Originals (and everything made from them) are erased this many days after the later
    of the campaign's deadline and its last compile."""
    retention_unused_days: int = Field(default=30, ge=0)
    """Clips never approved (rejected, failed, or still waiting) and unfinished uploads are
    erased this many days after they arrived."""
    retention_withdrawn_days: int = Field(default=0, ge=0)
    """Clips whose consent was withdrawn are erased this many days after the withdrawal."""
    retention_temp_hours: int = Field(default=24, gt=0)
    """Work folders and previews older than this are removed."""
    retention_interval_minutes: int = Field(default=60, ge=0)
    """``chorus worker`` runs the retention sweep this often (0: never; use the CronJob)."""

    session_hours: int = Field(default=12, gt=0)
    """How long a staff sign-in lasts without activity limits (absolute lifetime)."""

    @property
    def public_url_base(self) -> str:
        """The public URL without a trailing slash, for building links."""
        return self.public_url.rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are ``Secure`` and ``__Host-`` prefixed when the public URL is HTTPS."""
        return self.public_url.lower().startswith("https://")

    @property
    def session_cookie_name(self) -> str:
        """``__Host-chorus_session`` over HTTPS; plain ``chorus_session`` for local HTTP."""
        return "__Host-chorus_session" if self.secure_cookies else "chorus_session"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_production(self) -> None:
        """Refuse to run in production with the development secret or a non-HTTPS URL."""
        if self.environment != "production":
            return
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            raise RuntimeError(
                "CHORUS_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (the development default is refused)."
            )
        if not self.secure_cookies:
            raise RuntimeError(
                "CHORUS_PUBLIC_URL must be an https:// URL in production: phones only allow "
                "the camera on HTTPS and staff cookies must be Secure."
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()

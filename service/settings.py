"""One settings object for the whole service (environment prefix ``CHORUS_``).

Defaults work offline on one machine (SQLite, objects on local disk, in-process workers), so
``chorus serve`` runs with no configuration. A production deployment must set a real
``secret_key``: :func:`Settings.check_production` refuses the development default.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
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

    # --- uploads: quotas and request sizes ---------------------------------------------------
    upload_quota_window_minutes: int = Field(default=60, gt=0)
    """The window the per-invite upload quotas count over."""
    upload_quota_created_per_invite: int = Field(default=20, gt=0)
    """Uploads one invite link may start within the window (a 429 beyond)."""
    upload_quota_completed_per_invite: int = Field(default=5, gt=0)
    """Uploads one invite link may finish (clips made) within the window."""
    tus_max_chunk_bytes: int = Field(default=16 * 1024**2, gt=0)
    """The largest body one tus PATCH may carry (the page sends 5 MiB chunks)."""
    max_request_bytes: int = Field(default=4 * 1024**2, gt=0)
    """Every other request body (forms, JSON, a logo) is refused beyond this (413)."""
    upload_inline_complete_bytes: int = Field(default=32 * 1024**2, ge=0)
    """An upload up to this size is completed (hashed, stored, clip made) before the last
    PATCH is answered; a larger one is completed in the background after the answer."""
    min_video_height: int = Field(default=240, gt=0)
    """The smallest picture (its shorter side, in lines) a clip may have."""
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

    # --- the process: logs and health ---------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    """``json`` lines for a log collector, ``text`` for a person at a terminal."""
    metrics_port: int = Field(default=9200, ge=0, le=65535)
    """``chorus worker``: the port of its ``/healthz`` and ``/metrics``; 0 serves neither."""
    healthcheck_url: str = "http://127.0.0.1:8000/healthz"
    """What the image's HEALTHCHECK (``python -m service.observability.probe``) asks."""

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
    """How long a staff sign-in lasts at most, however active (absolute lifetime)."""
    session_idle_minutes: int = Field(default=60, gt=0)
    """A staff session unused this long ends (idle timeout), before its absolute lifetime."""

    trusted_proxies: str = ""
    """Comma-separated addresses or networks (``10.0.0.5``, ``10.0.0.0/8``) of the reverse
    proxies whose ``X-Forwarded-For``/``X-Forwarded-Proto`` are believed. Default: none, so
    the client address is the TCP peer and a client cannot choose what the throttles see."""

    login_attempts_per_account: int = Field(default=5, gt=0)
    """Failed sign-ins for one account within ``login_lockout_minutes`` before it is locked."""
    login_lockout_minutes: int = Field(default=15, gt=0)
    """How long an account stays locked after too many failed sign-ins."""
    password_reset_minutes: int = Field(default=30, gt=0)
    """How long a password-reset link sent by e-mail works (once)."""

    smtp_host: str | None = None
    """The SMTP server for password-reset e-mail; without it, reset e-mails cannot be sent."""
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS (refuse to send if the server cannot)."""
    smtp_from: str = "Chorus <chorus@localhost>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            if item == "*":
                raise ValueError("CHORUS_TRUSTED_PROXIES must list addresses or networks; "
                                 "'*' would let any client choose its address")
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"CHORUS_TRUSTED_PROXIES: '{item}' is not an IP address "
                                 "or network") from exc
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """The trusted proxies as a list (empty: trust no forwarded header)."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        """``info`` and ``INFO``, ``JSON`` and ``json`` alike (as the logging module takes them)."""
        if not isinstance(value, str):
            return value
        return value.strip().upper() if value.strip().upper() in (
            "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") else value.strip().lower()

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

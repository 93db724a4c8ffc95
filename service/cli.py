"""`chorus`: the command line, and the composition root.

This is the one module that may import both the service and the workers: it starts the web
app, the workers, or a compile. Each subcommand lives in its own function; `main` only parses
arguments and dispatches.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from workers.media.style import FORMATS


def _add_compile(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compile",
        help="compile a campaign file into captioned videos, cuts, subtitles and a report",
        description="Compile CAMPAIGN.yaml into OUTDIR (see README: the campaign file).",
    )
    p.add_argument("campaign", help="the campaign file (YAML)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--format", dest="formats", action="append",
                   choices=[*FORMATS, "all"],
                   help="output format; repeat for several (default: the campaign's formats)")
    p.add_argument("--jobs", type=int, default=None,
                   help="clips rendered at once (default: number of cores)")
    p.add_argument("--skip-bad", action="store_true",
                   help="compile the good clips and list the bad ones instead of stopping")
    p.add_argument("--cache", default=None,
                   help="segment cache folder (default: OUTDIR/.cache)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run_compile)


def _run_compile(args: argparse.Namespace) -> int:
    from workers.media.compile_cli import run_compile_command

    return run_compile_command(args)


def _add_migrate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "migrate",
        help="bring the database schema up to date (alembic upgrade head)",
        description="Apply every database migration to CHORUS_DATABASE_URL.",
    )
    p.add_argument("--revision", default="head", help="target revision (default: head)")
    p.set_defaults(func=_run_migrate)


def _run_migrate(args: argparse.Namespace) -> int:
    from service.migrations import upgrade
    from service.settings import get_settings

    settings = get_settings()
    upgrade(settings, args.revision)
    print(f"database is at {args.revision}: {_redacted(settings.database_url)}")
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the web service (and the in-process workers on the embedded default)",
        description="Serve Chorus over HTTP. Put a TLS reverse proxy in front of it and set "
                    "CHORUS_PUBLIC_URL=https://...: phones only allow the camera on HTTPS.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--no-migrate", action="store_true",
                   help="do not migrate a SQLite database on start")
    p.add_argument("--proxy-headers", action="store_true",
                   help="expect a reverse proxy: its X-Forwarded-* are believed only from the "
                        "addresses in CHORUS_TRUSTED_PROXIES (default: none)")
    p.set_defaults(func=_run_serve)


def start_background_workers(settings: Any) -> Any:
    """Start the in-process workers if ``service.jobs`` provides them (S3's hook)."""
    from service import jobs

    start = getattr(jobs, "start_embedded_workers", None)
    return start(settings) if start is not None else None


def _run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.migrations import upgrade
    from service.observability.logs import configure_logging
    from service.settings import get_settings
    from service.web.app import create_app

    settings = get_settings()
    settings.check_production()
    configure_logging(settings)
    if settings.is_sqlite and not args.no_migrate:
        upgrade(settings)
    app = create_app(settings)
    workers = start_background_workers(settings)
    from service.retention import schedule

    timer = schedule.start(settings) if workers is not None else None  # one-machine default
    try:
        if args.proxy_headers and not settings.trusted_proxy_list:
            logging.getLogger(__name__).warning(
                "--proxy-headers: no proxy is trusted until CHORUS_TRUSTED_PROXIES lists "
                "its addresses; X-Forwarded-For is ignored")
        # The app itself believes forwarded headers from CHORUS_TRUSTED_PROXIES only
        # (service/web/app.py), so uvicorn's own handling stays off.
        uvicorn.run(app, host=args.host, port=args.port, proxy_headers=False,
                    server_header=False, log_config=None)
    finally:
        if timer is not None:
            timer.stop()
        if workers is not None:
            workers.stop()
    return 0


def _add_worker(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "worker",
        help="run worker processes for Redis or RabbitMQ (CHORUS_BROKER, CHORUS_BROKER_URL)",
        description="Run Dramatiq worker processes that prepare clips and join compiles. Only "
                    "with a real broker; on the embedded default `chorus serve` runs the "
                    "workers itself. Due work is re-enqueued on start.",
    )
    p.add_argument("--processes", type=int, default=None,
                   help="worker processes (default: CHORUS_WORKER_PROCESSES, 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads per process (default: CHORUS_WORKER_THREADS, 2)")
    p.add_argument("--no-resume", action="store_true",
                   help="do not re-enqueue due work on start")
    p.set_defaults(func=_run_worker)


def _run_worker(args: argparse.Namespace) -> int:
    import tempfile

    if (args.processes or 1) > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # must be set before prometheus_client is imported, so every process's stage
        # durations reach the one /metrics endpoint
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="chorus-metrics-")
    from service.jobs import WorkerConfigError, run_worker_processes
    from service.observability.logs import configure_logging
    from service.observability.worker_http import start_worker_http_server
    from service.settings import get_settings

    settings = get_settings()
    settings.check_production()
    configure_logging(settings)
    try:
        # /healthz and /metrics for the kubelet and Prometheus
        start_worker_http_server(settings.metrics_port)
    except OSError as exc:
        print(f"chorus worker: health/metrics port not served ({exc}); set "
              "CHORUS_METRICS_PORT to a free port or 0", file=sys.stderr)
    from service.retention import schedule

    timer = schedule.start(settings)  # the retention sweep, every retention_interval_minutes
    try:
        return run_worker_processes(settings, processes=args.processes, threads=args.threads,
                                    resume=not args.no_resume)
    except WorkerConfigError as exc:
        print(f"chorus worker: {exc}", file=sys.stderr)
        return 2
    finally:
        if timer is not None:
            timer.stop()


def _add_retention(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "retention",
        help="erase what is past its keeping period (see CHORUS_RETENTION_* settings)",
        description="Erase clips past their retention period (and everything made from "
                    "them), stale uploads, orphaned objects and cache entries, old work "
                    "files. Run by the Kubernetes CronJob and, on a timer, by `chorus worker`.",
    )
    p.add_argument("--dry-run", action="store_true",
                   help="only list what would be deleted (kind, rule, id or path)")
    p.set_defaults(func=_run_retention)


def _run_retention(args: argparse.Namespace) -> int:
    from service.db import unit_of_work
    from service.models import utcnow
    from service.observability.logs import configure_logging
    from service.retention.service import sweep
    from service.settings import get_settings
    from service.storage import get_store

    settings = get_settings()
    configure_logging(settings)
    with unit_of_work(settings) as session:
        result = sweep(session, settings, get_store(settings), utcnow(), dry_run=args.dry_run)
        for line in result.lines():
            print(line)
    verb = "would be removed" if args.dry_run else "removed"
    print(f"{len(result.due)} item(s) {verb}"
          + ("" if args.dry_run else f"; {result.objects_removed} stored object(s) and "
             f"{result.files_removed} local file(s) deleted; erasure reports: "
             f"{', '.join(result.reports) or 'none'}"), file=sys.stderr)
    return 0


def _add_user(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("user", help="staff accounts")
    user_sub = p.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser(
        "add",
        help="create a staff account (and its organisation if it is new)",
        description="Create a staff account. The password is read from --password-stdin, "
                    "else from CHORUS_PASSWORD, else asked for (twice) on the terminal.",
    )
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=["admin", "editor", "viewer"], default="admin")
    add.add_argument("--organisation", required=True,
                     help="organisation name (created if there is none by that name)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    add.set_defaults(func=_run_user_add)


def _read_password(args: argparse.Namespace) -> str:
    import getpass
    import os

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    from_env = os.environ.get("CHORUS_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise SystemExit("no password: use --password-stdin, CHORUS_PASSWORD, or a terminal")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("the passwords differ; nothing was created")
    return first


def _run_user_add(args: argparse.Namespace) -> int:
    from service.db import unit_of_work
    from service.organisations.service import AccountError, add_user, get_or_create_organisation
    from service.settings import get_settings

    password = _read_password(args)
    settings = get_settings()
    try:
        with unit_of_work(settings) as db:
            organisation, created = get_or_create_organisation(db, args.organisation)
            user = add_user(db, organisation, email=args.email, name=args.name,
                            role=args.role, password=password)
            summary = (f"created {user.role} {user.email} in "
                       f"{'new ' if created else ''}organisation '{organisation.name}'")
    except AccountError as exc:
        message = str(exc).rstrip(".")
        print(f"chorus user add: {message}; nothing was created", file=sys.stderr)
        return 2
    print(summary)
    return 0


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="create a demo campaign (sample clips, translations, an invite link), then serve",
        description="Create (idempotently) a demo organisation, admin, campaign, leaders and "
                    "sample clips on the embedded default, print the sign-in and one invite "
                    "link, then run `chorus serve`.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--no-serve", action="store_true", help="only create the demo data")
    p.set_defaults(func=_run_demo, no_migrate=False, proxy_headers=False)


def _run_demo(args: argparse.Namespace) -> int:
    from service.demo import seed
    from service.migrations import upgrade
    from service.settings import get_settings

    if "CHORUS_PUBLIC_URL" not in os.environ:
        # links printed and put in QR codes must point at where this demo listens
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        os.environ["CHORUS_PUBLIC_URL"] = f"http://{host}:{args.port}"
        get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings)
    info = seed(settings)
    print(f"\nChorus demo ready.\n  sign in:  {settings.public_url_base}/login\n"
          f"  email:    {info['email']}\n  password: {info['password']}\n"
          f"  campaign: {info['campaign']}\n  Urdu leader's invite link: {info['invite']}\n")
    if args.no_serve:
        return 0
    return _run_serve(args)


Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
REGISTRARS: list[Registrar] = [_add_compile, _add_migrate, _add_serve, _add_user, _add_demo,
                               _add_worker, _add_retention]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chorus", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for register in REGISTRARS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

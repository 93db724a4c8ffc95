"""`chorus`: the command line, and the composition root.

This is the one module that may import both the service and the workers: it starts the web
app, the workers, or a compile. Each subcommand lives in its own function; `main` only parses
arguments and dispatches.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence


def _add_compile(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compile",
        help="compile a campaign file into captioned videos, cuts, subtitles and a report",
        description="Compile CAMPAIGN.yaml into OUTDIR (see README: the campaign file).",
    )
    p.add_argument("campaign", help="the campaign file (YAML)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--format", dest="formats", action="append",
                   choices=["landscape", "portrait", "square", "all"],
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


Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]
REGISTRARS: list[Registrar] = [_add_compile]


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

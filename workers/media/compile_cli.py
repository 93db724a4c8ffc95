"""`chorus compile`: load the campaign file, compile it, show progress, explain failures.

Exit codes: 0 done; 2 the campaign file or some clips are bad (each one listed); 1 any other
failure (a missing tool, font or shaping engine, with what to install).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from workers.media.campaign_file import CampaignError, load_campaign
from workers.media.compile import CompileError, compile_campaign
from workers.media.errors import MediaError


class TerminalProgress:
    """One bar per clip (prepare + render) and an overall bar, on a terminal (tqdm)."""

    def __init__(self, labels: dict[int, str]):
        from tqdm import tqdm

        self._tqdm = tqdm
        self.lock = threading.Lock()
        self.overall = tqdm(total=1000, desc="overall", position=0, leave=True,
                            bar_format="{desc:>28} {bar} {percentage:3.0f}% {elapsed}")
        self.bars: dict[str, Any] = {}
        self.labels = labels
        self.next_position = 1

    def _bar(self, item: str, event: dict[str, Any]) -> Any:
        if item not in self.bars:
            clip, fmt = event.get("clip"), event.get("format")
            who = self.labels.get(clip, str(clip)) if isinstance(clip, int) else None
            if event.get("stage") == "prepare" and who:
                label = f"prepare {who}"
            elif who:
                label = f"{who} [{fmt}]"
            else:
                label = " ".join(str(v) for v in (event.get("stage"), fmt) if v) or item
            self.bars[item] = self._tqdm(total=1000, desc=label[:28], position=self.next_position,
                                         leave=False,
                                         bar_format="{desc:>28} {bar} {percentage:3.0f}%")
            self.next_position += 1
        return self.bars[item]

    def __call__(self, event: dict[str, Any]) -> None:
        with self.lock:
            item = str(event.get("item", ""))
            if item and item != "done":
                bar = self._bar(item, event)
                bar.n = int(1000 * float(event.get("fraction", 0)))
                bar.refresh()
            self.overall.n = int(1000 * float(event.get("overall", 0)))
            self.overall.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.overall.n = 1000
        self.overall.refresh()
        self.overall.close()


def run_compile_command(args: argparse.Namespace) -> int:
    try:
        campaign = load_campaign(Path(args.campaign)).campaign
    except CampaignError as exc:
        print(f"chorus compile: {exc}", file=sys.stderr)
        return 2
    except MediaError as exc:
        print(f"chorus compile: {exc}", file=sys.stderr)
        return 2
    for warning in campaign.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    show = not args.quiet and sys.stderr.isatty()
    progress = TerminalProgress({c.index: f"{c.language} {c.speaker}" for c in campaign.clips}
                                ) if show else None
    started = time.monotonic()
    try:
        result = compile_campaign(
            campaign, Path(args.output), formats=args.formats, jobs=args.jobs,
            skip_bad=args.skip_bad, cache_dir=Path(args.cache) if args.cache else None,
            progress=progress)
    except CompileError as exc:
        if progress:
            progress.close()
        print(f"chorus compile: {exc}", file=sys.stderr)
        if args.skip_bad:  # every clip is bad: skipping them leaves nothing to compile
            print("No clip can be compiled: fix or replace these clips.", file=sys.stderr)
        else:
            print("Fix or remove these clips, or run again with --skip-bad to compile the rest.",
                  file=sys.stderr)
        return 2
    except MediaError as exc:
        if progress:
            progress.close()
        print(f"chorus compile: {exc}", file=sys.stderr)
        return 1
    if progress:
        progress.close()
    for problem in result.skipped:
        print(f"skipped: {problem}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(f"Compiled {len(campaign.clips) - len(result.skipped)} clip(s) into {result.outdir} "
          f"in {elapsed:.1f} s: {result.segments_rendered} segment(s) rendered, "
          f"{result.segments_reused} reused, {len(result.outputs_written)} file(s) written.")
    for warning in result.report.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    return 0

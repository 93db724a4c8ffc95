"""A stand-in for `chorus serve`'s worker side, run as a child process by the restart test.

Settings come from CHORUS_* variables. It starts the embedded workers (which resume due work
from the database, as `chorus serve` does) and then waits to be killed.
"""

from __future__ import annotations

import time

from service.jobs import start_embedded_workers
from service.settings import get_settings


def main() -> None:
    workers = start_embedded_workers(get_settings(), resume=True)
    assert workers is not None
    print("resumed", workers.resumed, flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()

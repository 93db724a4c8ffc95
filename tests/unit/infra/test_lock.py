"""The lock files agree with pyproject.toml, so the ranges and the pins cannot drift apart.

pyproject.toml keeps the ranges Chorus works with; requirements/runtime.txt and dev.txt
(made by ``bash infra/scripts/lock.sh``) pin what is installed, each with its hashes. An edit
to one without re-locking fails here, naming the package and what to run.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
RELOCK = "run `bash infra/scripts/lock.sh` (see \"Updating the lock\" in README.md)"
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")
HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


@dataclass
class Pin:
    version: str
    hashes: list[str] = field(default_factory=list)


def read_lock(path: Path) -> dict[str, Pin]:
    """name -> pin of a pip-compile ``--generate-hashes`` file (continuation lines joined)."""
    pins: dict[str, Pin] = {}
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *hashes = line.split()
        match = ENTRY.match(spec)
        assert match, f"{path.name}:{number}: {spec!r} is not pinned with =="
        bad = [h for h in hashes if not HASH.match(h)]
        assert not bad, f"{path.name}:{number}: not a sha256 hash: {bad}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"{path.name}: {name} is pinned twice"
        pins[name] = Pin(match.group(2), hashes)
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def direct(requirements: list[str]) -> list[Requirement]:
    """The requirements, plus what each named extra of them brings (``psycopg[binary]`` also
    needs psycopg-binary), read from the installed distribution's metadata."""
    found: list[Requirement] = []
    for text in requirements:
        req = Requirement(text)
        found.append(req)
        for extra in sorted(req.extras):
            env = {**default_environment(), "extra": extra}
            for dep in metadata.requires(req.name) or []:
                sub = Requirement(dep)
                if sub.marker is not None and "extra" in str(sub.marker) \
                        and sub.marker.evaluate(env):
                    found.append(sub)
    return found


@pytest.fixture(scope="module")
def runtime() -> dict[str, Pin]:
    return read_lock(ROOT / "requirements" / "runtime.txt")


@pytest.fixture(scope="module")
def dev() -> dict[str, Pin]:
    return read_lock(ROOT / "requirements" / "dev.txt")


def _check_covered(lock: dict[str, Pin], reqs: list[Requirement], lock_name: str) -> None:
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in lock, f"{req} is in pyproject.toml but not in {lock_name}: {RELOCK}"
        pin = lock[name]
        assert pin.hashes, f"{name} has no hash in {lock_name}: {RELOCK}"
        assert req.specifier.contains(Version(pin.version), prereleases=True), (
            f"{lock_name} pins {name}=={pin.version}, outside pyproject's {req}: {RELOCK}")


def test_every_direct_dependency_is_pinned_with_a_hash_in_both_locks(runtime, dev) -> None:
    reqs = direct(project()["project"]["dependencies"])
    _check_covered(runtime, reqs, "requirements/runtime.txt")
    _check_covered(dev, reqs, "requirements/dev.txt")


def test_every_dev_dependency_is_pinned_with_a_hash_in_the_dev_lock(dev) -> None:
    _check_covered(dev, direct(project()["project"]["optional-dependencies"]["dev"]),
                   "requirements/dev.txt")


def test_the_build_backend_is_locked_too(runtime, dev) -> None:
    """`pip install --no-build-isolation -e .` then builds with nothing outside the lock."""
    reqs = [Requirement(r) for r in project()["build-system"]["requires"]]
    _check_covered(runtime, reqs, "requirements/runtime.txt")
    _check_covered(dev, reqs, "requirements/dev.txt")


def test_runtime_and_dev_locks_agree_on_every_version(runtime, dev) -> None:
    differ = {name: (pin.version, dev[name].version if name in dev else None)
              for name, pin in runtime.items()
              if name not in dev or dev[name].version != pin.version}
    assert not differ, f"runtime.txt and dev.txt differ (runtime, dev): {differ}; {RELOCK}"


def test_every_locked_package_has_a_hash(runtime, dev) -> None:
    # pip --require-hashes refuses the whole file otherwise
    for lock_name, lock in (("runtime.txt", runtime), ("dev.txt", dev)):
        unhashed = sorted(name for name, pin in lock.items() if not pin.hashes)
        assert not unhashed, f"requirements/{lock_name}: no hash for {unhashed}"


def test_the_bench_extra_stays_out_of_both_locks(runtime, dev) -> None:
    """moviepy (and the ffmpeg binary imageio-ffmpeg bundles) is for the naive benchmark only."""
    bench = {canonicalize_name(Requirement(r).name)
             for r in project()["project"]["optional-dependencies"]["bench"]}
    for lock_name, lock in (("runtime.txt", runtime), ("dev.txt", dev)):
        leaked = sorted((bench | {"imageio-ffmpeg"}) & lock.keys())
        assert not leaked, f"requirements/{lock_name} holds {leaked}, which only benchmarks use"


def test_a_pin_outside_its_range_is_caught(tmp_path: Path) -> None:
    """The check itself: a lock pinning a version pyproject's range excludes, or missing a
    hash, fails with the package's name."""
    lock = tmp_path / "lock.txt"
    lock.write_text("pillow==12.0.0 \\\n    --hash=sha256:" + "a" * 64 + "\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"pillow==12\.0\.0, outside"):
        _check_covered(read_lock(lock), [Requirement("pillow>=10.4,<12")], "lock.txt")
    lock.write_text("pillow==11.3.0\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="pillow has no hash"):
        _check_covered(read_lock(lock), [Requirement("pillow>=10.4,<12")], "lock.txt")
    with pytest.raises(AssertionError, match=re.escape("segno>=1.6 is in pyproject.toml but not")):
        _check_covered(read_lock(lock), [Requirement("segno>=1.6")], "lock.txt")

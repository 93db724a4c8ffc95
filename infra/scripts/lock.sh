#!/usr/bin/env bash
# Re-make the lock files from pyproject.toml's ranges, every package pinned with its hashes:
#   requirements/runtime.txt   the dependencies (what the image and `bootstrap.sh` install)
#   requirements/dev.txt       those plus the `dev` extra, at the same versions (-c runtime.txt)
# Both also pin the build backend (setuptools), so `pip install --no-build-isolation -e .`
# needs nothing outside the lock. Pins already in the files are kept unless asked otherwise:
#   bash infra/scripts/lock.sh                          after editing pyproject.toml's dependencies
#   bash infra/scripts/lock.sh --upgrade                the newest releases the ranges allow
#   bash infra/scripts/lock.sh --upgrade-package NAME   one package (and what it needs)
# Extra arguments go to both pip-compile runs. The `bench` extra is in neither file.
set -euo pipefail
cd "$(dirname "$0")/../.."

PIP_TOOLS_VERSION=7.6.2
[ -x .venv/bin/python ] || { echo "make the virtualenv first: bash infra/scripts/bootstrap.sh --test" >&2; exit 1; }
.venv/bin/pip-compile --version 2>/dev/null | grep -q "version $PIP_TOOLS_VERSION\$" ||
  .venv/bin/python -m pip install -q "pip-tools==$PIP_TOOLS_VERSION"

compile() {
  CUSTOM_COMPILE_COMMAND="bash infra/scripts/lock.sh" .venv/bin/pip-compile --quiet \
    --generate-hashes --allow-unsafe --all-build-deps --strip-extras --no-emit-options \
    "$@" pyproject.toml
}
compile --output-file requirements/runtime.txt "$@"
compile --extra dev -c requirements/runtime.txt --output-file requirements/dev.txt "$@"
echo "requirements/runtime.txt and requirements/dev.txt are up to date with pyproject.toml"

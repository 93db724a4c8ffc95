#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what it needs (Python packages from
# the lock files), starts the local servers the integration tests use, then lint, types and
# pytest. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/scripts/bootstrap.sh --test
bash infra/scripts/services.sh
bash infra/scripts/image.sh  # the image the tests in tests/image run
echo "== ruff"; .venv/bin/ruff check .
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
# No `exec`, so steps can follow; under `set -e` a failing pytest still ends the script with
# pytest's own exit status (1 failures, 2 interrupted, 5 nothing collected...).
.venv/bin/pytest -q -p no:cacheprovider --durations=15 "$@"

#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for Chorus: system packages, then a virtualenv in .venv
# holding exactly the versions in requirements/*.txt.
#   bash infra/scripts/bootstrap.sh          what running Chorus needs
#   bash infra/scripts/bootstrap.sh --test   also what the test suite needs (OCR packs, Chromium)
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

runtime_pkgs=(ffmpeg fonts-noto-core fonts-noto-cjk fonts-noto-extra fonts-noto-ui-core fonts-noto-color-emoji
              libraqm0 libfribidi0 libharfbuzz0b espeak-ng)
test_pkgs=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-urd tesseract-ocr-ara tesseract-ocr-ben
           tesseract-ocr-guj tesseract-ocr-hin tesseract-ocr-pan tesseract-ocr-tam
           tesseract-ocr-chi-sim tesseract-ocr-pol tesseract-ocr-ron tesseract-ocr-lit
           tesseract-ocr-heb tesseract-ocr-kat tesseract-ocr-hye tesseract-ocr-khm tesseract-ocr-mya tesseract-ocr-sin tesseract-ocr-amh tesseract-ocr-tel tesseract-ocr-kan tesseract-ocr-mal tesseract-ocr-tha tesseract-ocr-ell tesseract-ocr-rus
           chromium sox)
pkgs=("${runtime_pkgs[@]}")
[ "$want_test" = 1 ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    echo "Chorus needs these Debian packages; ask an administrator to install them:" >&2
    echo "  apt-get install ${missing[*]}" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO=sudo
  echo "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' || {
  echo "Chorus needs Python 3.11 (found $("$PY" --version)); set PYTHON=/path/to/python3.11" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
# Exactly the locked versions, each checked against its hash (see "Updating the lock" in the
# README); then Chorus itself, built with the locked setuptools and taking nothing else.
lock=requirements/runtime.txt
[ "$want_test" = 1 ] && lock=requirements/dev.txt
.venv/bin/python -m pip install -q --require-hashes -r "$lock"
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
.venv/bin/python -c "from PIL import features; assert features.check('raqm'), 'Pillow was built without raqm: install libraqm0 and reinstall Pillow'"
echo "Chorus is set up in $(pwd)/.venv"

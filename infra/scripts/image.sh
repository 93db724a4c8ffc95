#!/usr/bin/env bash
# Build the Chorus image on a machine with no image registry (as CI does), from a local base.
#   bash infra/scripts/image.sh              chorus:latest on chorus-base:bookworm
#   CHORUS_IMAGE=chorus:1.2 bash infra/scripts/image.sh
# Starts dockerd if needed (infra/docker/dockerd.sh), makes the Debian base by debootstrap
# unless it is up to date (infra/docker/base.sh), then builds the Dockerfile with host
# networking (the engine has no bridge). Docker's layer cache keeps the apt and pip layers
# between runs, so a change to the code rebuilds only the last layers.
# Where Docker Hub is reachable, `docker build -t chorus .` does the same on python:3.11-slim.
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${CHORUS_IMAGE:-chorus:latest}
base=${CHORUS_BASE_IMAGE:-chorus-base:bookworm}
export CHORUS_BASE_IMAGE=$base

bash infra/docker/dockerd.sh
bash infra/docker/base.sh
# BuildKit needs the buildx plugin, which Debian 12's docker.io does not ship; the classic
# builder does all this Dockerfile asks.
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
echo "== image $image (base $base)"
start=$(date +%s)
docker build --network host --build-arg "BASE_IMAGE=$base" -t "$image" . >/tmp/chorus-image-build.log 2>&1 || {
  tail -40 /tmp/chorus-image-build.log >&2; exit 1; }
docker image prune -f >/dev/null  # the untagged layers of earlier builds
echo "built $image in $(( $(date +%s) - start )) s: $(docker image inspect -f '{{ .Size }}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')"

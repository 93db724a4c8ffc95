#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, starting one if none does.
#   bash infra/docker/dockerd.sh
# The machines Chorus is tested on allow traffic only to loopback and the package registries,
# so the engine runs without its bridge network or iptables rules: every container uses
# `--network host` or `--network none`, and `docker build` runs with `--network host`.
# Needs root (or sudo) the first time, to install docker.io and start dockerd.
set -euo pipefail

log=${CHORUS_DOCKERD_LOG:-/var/log/chorus-dockerd.log}
wait_s=${CHORUS_DOCKERD_WAIT:-60}

if docker info >/dev/null 2>&1; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "dockerd is not running and starting it needs root" >&2; exit 1; }
  SUDO=sudo
fi

if ! command -v dockerd >/dev/null; then
  echo "Installing docker.io"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

if ! pgrep -x dockerd >/dev/null; then
  echo "Starting dockerd (no bridge, no iptables; log in $log)"
  # setsid: the engine outlives this script and the test run that called it.
  $SUDO setsid dockerd --bridge=none --iptables=false --ip-masq=false \
    >>"$log" 2>&1 </dev/null &
fi

for _ in $(seq "$wait_s"); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "dockerd did not answer within ${wait_s}s; see $log" >&2
tail -20 "$log" >&2 || true
exit 1

#!/usr/bin/env bash
# The image's base where no image registry is reachable: a Debian 12 root file system made by
# debootstrap from the Debian mirror this machine's apt uses, imported as chorus-base:bookworm.
#   bash infra/docker/base.sh            build it unless an image with the same recipe exists
#   bash infra/docker/base.sh --force    build it again
#   CHORUS_BASE_IMAGE=name:tag           another tag
# What is in it: Python 3.11 with venv (python3-distutils named too: debootstrap does not
# resolve the virtual python3.11-distutils that python3.11-venv depends on) (python-is-python3, so `python` works as in the
# official python images), ca-certificates plus this machine's CA bundle (the package
# registries here are reached through a TLS proxy whose CA only that bundle has), and a pip
# configuration using that bundle and this machine's package indexes (when they are URLs).
# The image carries a label with a hash of its recipe (this script, the mirrors, the CA
# bundle and the pip configuration); the build is skipped while that label matches.
set -euo pipefail
cd "$(dirname "$0")/../.."

tag=${CHORUS_BASE_IMAGE:-chorus-base:bookworm}
suite=bookworm
force=0
[ "${1:-}" = "--force" ] && force=1

# --- the mirrors, from this machine's apt sources (deb822 .sources and one-line .list) -------
apt_uris() {  # every "URI SUITE" pair apt is configured with
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i, $(i+1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         { uris = ""; suites = ""; enabled = 1
           for (j = 1; j <= NF; j++) {
             if ($j ~ /^URIs:/)    { uris = $j;   sub(/^URIs:[ \t]*/, "", uris) }
             if ($j ~ /^Suites:/)  { suites = $j; sub(/^Suites:[ \t]*/, "", suites) }
             if ($j ~ /^Enabled:[ \t]*no/) enabled = 0 }
           if (enabled && uris != "") {
             n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/)
             for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print u[a], s[b] } }' "$f"
  done
}
mirror=$(apt_uris | awk -v s="$suite" '$2 == s { print $1; exit }')
security=$(apt_uris | awk -v s="$suite-security" '$2 == s { print $1; exit }')
if [ -z "$mirror" ]; then
  echo "base.sh: no Debian $suite mirror in /etc/apt/sources.list*; set one up for apt first" >&2
  exit 1
fi
mirror=${mirror%/}
security=${security%/}

# --- the pip configuration the image gets -----------------------------------------------------
ca_bundle=/etc/ssl/certs/ca-certificates.crt
pip_conf() {
  echo "[global]"
  echo "cert = $ca_bundle"
  echo "disable-pip-version-check = true"
  echo "timeout = ${PIP_DEFAULT_TIMEOUT:-60}"
  # Index URLs from this machine's pip configuration and PIP_* variables; local folders and
  # file:// indexes are left out (they are not in the image).
  local key value urls
  local py=python3
  command -v "$py" >/dev/null || py=python3.11
  for key in index-url extra-index-url; do
    value=$("$py" -m pip config get "global.$key" 2>/dev/null || true)
    env_name="PIP_$(echo "$key" | tr 'a-z-' 'A-Z_')"
    value="${!env_name:-$value}"
    urls=$(for u in $value; do case "$u" in http://*|https://*) echo -n "$u ";; esac; done)
    [ -n "$urls" ] && echo "$key = ${urls% }"
  done
  return 0
}
pipconf=$(pip_conf)

recipe=$( { cat "$0"; echo "$mirror $security"; sha256sum "$ca_bundle"; echo "$pipconf"; } \
          | sha256sum | cut -c1-16)
if [ "$force" = 0 ] && [ "$(docker image inspect -f '{{ index .Config.Labels "org.chorus.base-recipe" }}' "$tag" 2>/dev/null || true)" = "$recipe" ]; then
  echo "base image $tag is up to date (recipe $recipe)"
  exit 0
fi

command -v debootstrap >/dev/null || {
  echo "Installing debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

root=$(mktemp -d /var/tmp/chorus-base.XXXXXX)
chmod 755 "$root"  # apt inside downloads as its own user
trap 'rm -rf "$root"' EXIT
echo "debootstrap $suite from $mirror into $root"
debootstrap --variant=minbase --include=python3.11,python3.11-venv,python3-distutils,python-is-python3,ca-certificates \
  "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -5 "$root.log" >&2; tail -40 "$root/debootstrap/debootstrap.log" >&2 || true; exit 1; }
rm -f "$root.log"

# apt inside: the same mirrors, main + updates + security, so later layers get security fixes
{
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$suite" "$suite"
  if [ -n "$security" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$security" "$suite"
  fi
} >"$root/etc/apt/sources.list.d/debian.sources"
: >"$root/etc/apt/sources.list"
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
  >"$root/etc/apt/apt.conf.d/90chorus-no-recommends"

# This machine's extra CAs, so a later update-ca-certificates keeps them, then its bundle.
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
printf '%s\n' "$pipconf" >"$root/etc/pip.conf"

# Security updates since the point release, then nothing left over.
chroot "$root" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade >/dev/null' \
  || { echo "base.sh: apt-get upgrade in the new root failed" >&2; exit 1; }
chroot "$root" apt-get clean
cp "$ca_bundle" "$root$ca_bundle"  # after the upgrade: a new ca-certificates rewrites it
# (the image adds a dpkg filter for documentation to the layers above: infra/docker/dpkg/)
find "$root/usr/share/doc" -type f ! -name copyright -delete
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/* \
       "$root"/usr/share/man/* "$root"/usr/share/locale/* \
       "$root"/usr/share/info/* "$root"/tmp/* "$root"/var/tmp/*
: >"$root/etc/resolv.conf"

echo "importing as $tag"
tar --numeric-owner -C "$root" -c . | docker import \
  --change "LABEL org.chorus.base-recipe=$recipe" \
  --change "LABEL org.opencontainers.image.description=\"Debian $suite with Python 3.11 (debootstrap)\"" \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  - "$tag" >/dev/null
docker image ls "$tag"

# One image for every role: the command picks it.
#   docker run IMAGE serve --host 0.0.0.0     web (and in-process workers when no broker is set)
#   docker run IMAGE worker --processes 2 --threads 2     a worker (needs CHORUS_BROKER)
#   docker run IMAGE migrate                  bring the database schema up to date, then exit
#   docker run IMAGE compile campaign.yaml -o out     one campaign file, no servers
# Build where Docker Hub is reachable:   docker build -t chorus .
# where it is not (a local Debian base): bash infra/scripts/image.sh
# See infra/README.md for settings, sizes, TLS, scaling and backups.

# Debian 12 with Python 3.11; infra/docker/base.sh makes an equivalent by debootstrap.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/chorus
# The locked dependencies first, in their own layer: it is rebuilt only when the lock changes,
# not at every change to the code. Every file is checked against its hash in the lock, and
# pip refuses a dependency the lock lacks (the lock is made on another Python 3.11 release
# than Debian's 3.11.2, and markers such as redis's async-timeout differ between them).
COPY requirements/runtime.txt /src/requirements/runtime.txt
RUN /opt/chorus/bin/pip install --require-hashes -r /src/requirements/runtime.txt
COPY pyproject.toml README.md /src/
COPY service /src/service
COPY workers /src/workers
# A regular (non-editable) install of Chorus alone (its dependencies are all in already); the
# catalogs are looked up beside the installed packages (service/i18n.py: LOCALES_DIR), so they
# go into site-packages too. pip and setuptools are not needed to run, so they do not ship.
RUN /opt/chorus/bin/pip install --no-deps /src \
 && /opt/chorus/bin/pip uninstall -y -q setuptools pip \
 && rm -rf /opt/chorus/lib/python3.11/site-packages/locales
COPY locales /opt/chorus/lib/python3.11/site-packages/locales

FROM ${BASE_IMAGE}
# ffmpeg for every media step; Noto fonts and raqm/fribidi so captions in every script are
# shaped (Arabic, Urdu, Bengali, Gurmukhi, CJK ...). No recommended packages, no
# documentation, no GPU drivers, and of the fonts only the faces Chorus uses
# (infra/docker/dpkg/). Versions
# follow Debian 12's security updates rather than exact pins, which would break the build at
# the next point release.
COPY infra/docker/dpkg/ /etc/dpkg/dpkg.cfg.d/
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ffmpeg fonts-noto-core fonts-noto-cjk fonts-noto-extra fonts-noto-color-emoji libraqm0 libfribidi0 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log

# A fixed UID/GID so volumes and Kubernetes' runAsUser agree on who owns the files.
RUN groupadd --system --gid 10001 chorus \
 && useradd --system --uid 10001 --gid chorus --home-dir /home/chorus --create-home \
      --shell /usr/sbin/nologin chorus \
 && mkdir -p /var/lib/chorus/objects \
 && chown -R chorus:chorus /var/lib/chorus

COPY --from=build /opt/chorus /opt/chorus

ENV PATH=/opt/chorus/bin:$PATH \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/chorus \
    XDG_CACHE_HOME=/tmp/.cache \
    CHORUS_ENVIRONMENT=production \
    CHORUS_DATA_DIR=/var/lib/chorus \
    CHORUS_STORAGE_ROOT=/var/lib/chorus/objects \
    CHORUS_DATABASE_URL=sqlite:////var/lib/chorus/chorus.db \
    CHORUS_HEALTHCHECK_URL=http://127.0.0.1:8000/healthz

# Fail the build, not the first compile, if a library ffmpeg links was filtered out above,
# captions could not be shaped, a catalog is missing or a font a leader page names is not there.
RUN ldd /usr/bin/ffmpeg /usr/bin/ffprobe >/tmp/ldd.txt && ! grep "not found" /tmp/ldd.txt \
 && rm /tmp/ldd.txt \
 && ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=64x64:duration=0.2 -c:v libx264 -f null - \
 && python -c "from PIL import features; assert features.check('raqm'), 'no raqm'" \
 && python -c "from service import i18n; [i18n.translations(code) for code in i18n.supported_locales()]" \
 && python -c "from service.invitations.fonts import missing_fonts as m; assert not m(), m()"

USER 10001:10001
WORKDIR /var/lib/chorus
VOLUME ["/var/lib/chorus"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "service.observability.probe"]

ENTRYPOINT ["chorus"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]

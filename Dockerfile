# syntax=docker/dockerfile:1
# One image for every role: the command picks it.
#   docker run IMAGE serve --host 0.0.0.0     web (and in-process workers when no broker is set)
#   docker run IMAGE worker --processes 2 --threads 2     a worker (needs CHORUS_BROKER)
#   docker run IMAGE migrate                  bring the database schema up to date, then exit
# See infra/README.md for settings, TLS, scaling and backups.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/chorus
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
# A regular (non-editable) install; the catalogs are looked up beside the installed
# packages (service/i18n.py: LOCALES_DIR), so they go into site-packages too.
RUN /opt/chorus/bin/pip install --no-cache-dir . \
 && rm -rf /opt/chorus/lib/python3.11/site-packages/locales
COPY locales /opt/chorus/lib/python3.11/site-packages/locales

FROM python:3.11-slim-bookworm
# ffmpeg for every media step; Noto fonts and raqm/fribidi so captions in every script are
# shaped (Arabic, Urdu, Bengali, Gurmukhi, CJK ...). Versions follow Debian 12's security
# updates rather than exact pins, which would break the build at the next point release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ffmpeg fonts-noto-core fonts-noto-cjk fonts-noto-extra fonts-noto-color-emoji libraqm0 libfribidi0 \
 && rm -rf /var/lib/apt/lists/*

# A fixed UID/GID so volumes and Kubernetes' runAsUser agree on who owns the files.
RUN groupadd --system --gid 10001 chorus \
 && useradd --system --uid 10001 --gid chorus --home-dir /home/chorus --create-home \
      --shell /usr/sbin/nologin chorus \
 && mkdir -p /var/lib/chorus/objects \
 && chown -R chorus:chorus /var/lib/chorus

COPY --from=build /opt/chorus /opt/chorus

ENV PATH=/opt/chorus/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/chorus \
    XDG_CACHE_HOME=/tmp/.cache \
    IMAGEIO_FFMPEG_EXE=/usr/bin/ffmpeg \
    CHORUS_ENVIRONMENT=production \
    CHORUS_DATA_DIR=/var/lib/chorus \
    CHORUS_STORAGE_ROOT=/var/lib/chorus/objects \
    CHORUS_DATABASE_URL=sqlite:////var/lib/chorus/chorus.db \
    CHORUS_HEALTHCHECK_URL=http://127.0.0.1:8000/healthz

# Fail the build, not the first compile, if captions could not be shaped or a catalog is
# missing: Pillow must find raqm, and every leader-page language must load its translations.
RUN python -c "from PIL import features; assert features.check('raqm'), 'no raqm'" \
 && python -c "from service import i18n; [i18n.translations(code) for code in i18n.supported_locales()]"

USER 10001:10001
WORKDIR /var/lib/chorus
VOLUME ["/var/lib/chorus"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "service.observability.probe"]

ENTRYPOINT ["chorus"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]

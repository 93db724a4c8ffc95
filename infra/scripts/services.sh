#!/usr/bin/env bash
# Make sure the servers the integration tests talk to are running on this machine:
# PostgreSQL (127.0.0.1:5432, trust auth) and Redis (6379), RabbitMQ (5672) when installed.
# Starts only what is installed but stopped; says what is missing otherwise.
set -uo pipefail

ok=1
if command -v pg_isready >/dev/null; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; ok=0; }
else
  echo "PostgreSQL is not installed (apt-get install postgresql; trust auth on 127.0.0.1)" >&2; ok=0
fi
if command -v redis-server >/dev/null; then
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    echo "Starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    sleep 1
  fi
fi
if command -v rabbitmq-server >/dev/null; then
  if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    echo "Starting RabbitMQ"
    rabbitmq-server -detached || true
    for _ in $(seq 1 60); do (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null && break; sleep 1; done
  fi
fi
[ "$ok" = 1 ]

#!/usr/bin/env bash
# Start PostgreSQL and Redis if they are not answering (the tests use the real ones).
set -euo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! pg_up; then
  echo "services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  else
    echo "services: PostgreSQL is not installed; run: apt-get install -y postgresql" >&2
    exit 1
  fi
fi
if ! redis_up; then
  echo "services: starting Redis"
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/brain-redis.log
  else
    echo "services: Redis is not installed; run: apt-get install -y redis-server" >&2
    exit 1
  fi
fi
for _ in $(seq 1 60); do
  if pg_up && redis_up; then echo "services: PostgreSQL and Redis are up"; exit 0; fi
  sleep 0.5
done
echo "services: PostgreSQL or Redis did not come up" >&2
exit 1

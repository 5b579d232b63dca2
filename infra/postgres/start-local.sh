#!/usr/bin/env bash
# A local PostgreSQL cluster for the Prefect server (SQLite stalled under concurrent writes in the
# measurements, see infra/README.md). Debian's package; installed with apt-get if missing.
#
#   infra/postgres/start-local.sh DIR [PORT]    initialise (once) and start a cluster in DIR on
#                                               127.0.0.1:PORT (default 5433), create role and
#                                               database `prefect`, print the connection URL
#   infra/postgres/start-local.sh --stop DIR    stop it
#
# Only the URL goes to stdout, so:
#   export PREFECT_API_DATABASE_CONNECTION_URL=$(infra/postgres/start-local.sh /srv/xxgk-pg 5433)
#   prefect server start        # or: xxgk server
# The password is generated once and kept in DIR/.prefect-password (mode 600); it is a local,
# loopback-only cluster. For production use a managed PostgreSQL and a secret store instead.
set -euo pipefail

log() { echo "start-local.sh: $*" >&2; }
die() { log "$*"; exit 1; }

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$dir" ]] || return 1
  echo "$dir"
}

ensure_installed() {
  pg_bin >/dev/null && return 0
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; as root: apt-get install -y postgresql"
  log "installing PostgreSQL (apt-get install -y postgresql)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; }
  pg_bin >/dev/null || die "PostgreSQL binaries not found after installing"
}

# Run a command as the cluster owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

prepare_dir() {
  local dir=$1
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
  chmod 700 "$dir"
  as_owner test -w "$dir" || die "$dir is not writable by the cluster owner (are its parents traversable by postgres?)"
}

password_of() {
  local file=$1/.prefect-password
  if [[ ! -s "$file" ]]; then
    (umask 077; tr -dc 'a-f0-9' </dev/urandom | head -c 32 >"$file")
  fi
  cat "$file"
}

start() {
  local dir port bin password
  dir=$(realpath -m "$1"); port=${2:-5433}
  ensure_installed
  bin=$(pg_bin)
  prepare_dir "$dir"
  if [[ ! -f "$dir/PG_VERSION" ]]; then
    log "initialising a cluster in $dir"
    as_owner "$bin/initdb" -D "$dir" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >&2
  fi
  if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$port (log: $dir/postgres.log)"
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2
  fi
  password=$(password_of "$dir")
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir/.prefect-password"; fi
  as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q >&2 <<SQL
SELECT 'CREATE ROLE prefect LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'prefect')\gexec
ALTER ROLE prefect PASSWORD '$password';
SELECT 'CREATE DATABASE prefect OWNER prefect' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'prefect')\gexec
SQL
  echo "postgresql+asyncpg://prefect:${password}@127.0.0.1:${port}/prefect"
}

stop() {
  local dir bin
  dir=$(realpath -m "$1")
  bin=$(pg_bin) || die "PostgreSQL is not installed"
  [[ -f "$dir/PG_VERSION" ]] || die "no cluster in $dir"
  as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >&2
}

case "${1:-}" in
  --stop) [[ $# -eq 2 ]] || die "usage: $0 --stop DIR"; stop "$2" ;;
  ""|-h|--help) sed -n '2,16p' "$0" >&2; exit 2 ;;
  *) [[ $# -le 2 ]] || die "usage: $0 DIR [PORT]"; start "$@" ;;
esac

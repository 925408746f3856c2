#!/bin/sh
# scripts/pg.sh: a throwaway PostgreSQL 15 cluster for the tests, never the
# system one (reference/postgres.md).
#
#   url=$(sh scripts/pg.sh start DIR)   initdb into DIR/data (UTF-8, C.UTF-8),
#                                       listening on a Unix socket in DIR only
#                                       (no TCP), a database "inv"; prints its URL
#   sh scripts/pg.sh stop DIR           stops it and removes DIR
#   sh scripts/pg.sh url DIR            prints the URL of a running one
#   sh scripts/pg.sh down DIR [MODE]    stops the server, keeping DIR (pg_ctl's
#                                       shutdown mode: fast, the default, or
#                                       immediate: a crash); tests of an outage
#   sh scripts/pg.sh up DIR             starts it again (as start did)
#
# PostgreSQL refuses to run as root: as root the cluster runs as "postgres".
# FSYNC=on keeps fsync (crash tests that kill the server need it); off by
# default, for speed.
set -e
cmd=$1
dir=$2
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: pg.sh start|stop|url|down|up DIR" >&2; exit 2; }
pgbin=${PGBIN:-/usr/lib/postgresql/15/bin}
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
# from /: the caller's directory may be closed to postgres (a mktemp -d clone)
as() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
url() { echo "postgresql:///inv?host=$dir&user=postgres"; }
run_server() {
  as "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=${FSYNC:-off} -c max_connections=200" \
    start >/dev/null
}

case $cmd in
  start)
    [ -x "$pgbin/initdb" ] || { echo "pg.sh: $pgbin/initdb not found (apt-get install postgresql-15)" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as "$pgbin/initdb" -D "$dir/data" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    run_server
    as "$pgbin/createdb" -h "$dir" -U postgres inv
    url
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  url) url ;;
  down)
    as "$pgbin/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w stop >/dev/null
    ;;
  up) run_server ;;
  *) echo "usage: pg.sh start|stop|url|down|up DIR" >&2; exit 2 ;;
esac

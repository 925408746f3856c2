#!/bin/sh
# examples/nginx/mkprefix.sh: build an nginx prefix directory for inventory.
#
#   sh examples/nginx/mkprefix.sh PREFIX PORT WORKERS DB TOKENS [SWEEP_S [PURGE_S]]
#
# Creates PREFIX/{conf/extra.d,logs,temp,data,html}, renders
# examples/nginx/nginx.conf into PREFIX/conf/nginx.conf, and, when run as
# root, hands PREFIX/data (where the database lives) to the worker user.
# DB is a SQLite file, or a PostgreSQL URL (postgresql://... or postgres://...):
# then init_worker gets url = DB, schema = $SCHEMA (inventory) and
# connect_timeout = $CONNECT_TIMEOUT (2000 ms), and the thread pool, which
# runs every call, $THREADS threads (4).
#
# Why: nginx started as root runs its workers as "nobody", and SQLite needs to
# write the database, its -wal/-shm files and the directory holding them. We
# do not run workers as root ("user root;"); instead the config says
# "user nobody <its group>;" and PREFIX/data is chowned to that user. Started
# as any other user, nginx keeps that user and nothing is chowned.
set -eu
[ $# -ge 5 ] || { echo "usage: $0 PREFIX PORT WORKERS DB TOKENS [SWEEP_S [PURGE_S]]" >&2; exit 2; }
PREFIX=$1 PORT=$2 WORKERS=$3 DB=$4 TOKENS=$5 SWEEP=${6:-0} PURGE=${7:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

mkdir -p "$PREFIX/conf/extra.d" "$PREFIX/logs" "$PREFIX/temp" "$PREFIX/data" "$PREFIX/html"
if [ "$(id -u)" -eq 0 ]; then
  WUSER=nobody
  WGROUP=$(id -gn nobody 2>/dev/null || echo nogroup)
  USER_DIRECTIVE="user $WUSER $WGROUP;"
else
  USER_DIRECTIVE="# not started as root: workers keep the current user"
fi

# Workers running as nobody must read the Lua modules and the C module, also
# from the thread pool's VMs, which load them after the fork: when started as
# root, serve a copy inside the prefix rather than the checkout, whose
# directories may not be readable by nobody.
LUAROOT=$ROOT
if [ "$(id -u)" -eq 0 ]; then
  LUAROOT=$PREFIX/app
  rm -rf "$LUAROOT"
  mkdir -p "$LUAROOT/lib/lua"
  cp -R "$ROOT/lua" "$LUAROOT/lua"
  cp -R "$ROOT/lib/lua/5.1" "$LUAROOT/lib/lua/5.1"
  chmod -R a+rX "$LUAROOT"
fi

# sed replacement texts: escape '|', '&' and '\'
esc() { printf '%s' "$1" | sed -e 's/[|&\\]/\\&/g'; }
STORE_SED="s|@DB@|$(esc "$DB")|g"
THREADS_SED="s|^thread_pool inventory threads=2 |thread_pool inventory threads=2 |"
case $DB in
  postgresql://*|postgres://*)
    STORE_SED="s|^\( *\)db = \"@DB@\",|\1url = \"$(esc "$DB")\", schema = \"${SCHEMA:-inventory}\", connect_timeout = ${CONNECT_TIMEOUT:-2000},|"
    THREADS_SED="s|^thread_pool inventory threads=2 |thread_pool inventory threads=${THREADS:-4} |"
    ;;
esac
sed -e "$STORE_SED" -e "$THREADS_SED" \
    -e "s|@ROOT@|$(esc "$LUAROOT")|g" \
    -e "s|@PORT@|$(esc "$PORT")|g" \
    -e "s|@WORKERS@|$(esc "$WORKERS")|g" \
    -e "s|@TOKENS@|$(esc "$TOKENS")|g" \
    -e "s|@SWEEP_INTERVAL@|$(esc "$SWEEP")|g" \
    -e "s|@PURGE_INTERVAL@|$(esc "$PURGE")|g" \
    -e "s|@USER_DIRECTIVE@|$(esc "$USER_DIRECTIVE")|g" \
    "$HERE/nginx.conf" > "$PREFIX/conf/nginx.conf"

if [ "$(id -u)" -eq 0 ]; then
  chmod 755 "$PREFIX"
  chown -R "$WUSER:$WGROUP" "$PREFIX/data"
  case $DB in
    postgresql://*|postgres://*) ;;
    *) dbdir=$(dirname "$DB")
       [ "$dbdir" = "$PREFIX/data" ] || chown -R "$WUSER:$WGROUP" "$dbdir" ;;
  esac
fi

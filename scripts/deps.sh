#!/bin/sh
# Install the Debian packages the build and the tests need, skipping what is
# already there. Runs apt-get update once, only when something is missing.
# prometheus: for promtool (the nginx suite checks /metrics and the example
# alert rules with it); the suite never starts the Prometheus server.
# libpq-dev: the PostgreSQL backend (inventory.pg); postgresql-15: the
# throwaway cluster the tests start (scripts/pg.sh), never the system one.
set -e
PKGS="gcc make lua5.4 liblua5.4-dev lua-cjson lua-busted libsqlite3-dev sqlite3 libpcre2-dev
      luajit2 libluajit2-5.1-dev luarocks nginx libnginx-mod-http-lua curl wrk
      clang libclang-rt-14-dev valgrind lua-sql-sqlite3 lua-check cppcheck prometheus
      libpq-dev postgresql-15 postgresql-client-15
      lua-socket chromium"
# the console's build and browser tests: Node.js with npm (the machine's, or Debian's)
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing >/dev/null

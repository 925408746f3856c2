#!/bin/sh
# Install the Debian packages the build and the tests need, skipping what is
# already there. Runs apt-get update once, only when something is missing.
set -e
PKGS="gcc make lua5.4 liblua5.4-dev lua-cjson lua-busted libsqlite3-dev sqlite3 libpcre2-dev
      luajit2 libluajit2-5.1-dev luarocks nginx libnginx-mod-http-lua curl wrk
      clang libclang-rt-14-dev valgrind lua-sql-sqlite3 lua-check cppcheck"
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

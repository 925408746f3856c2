#!/bin/sh
# test/install/run.sh: `make install` into a DESTDIR from a fresh copy of the
# checkout (its tracked files, as a clone has them), then the installed
# `inventory` command and `require "inventory"` (lua5.4 and luajit) from
# there, the installed nginx example under `nginx -t`, `make uninstall`, and
# the rockspec (`luarocks make`, offline) with its bin/inventory.
# Closing line: "install: N passed, N failed".
#
#   sh test/install/run.sh          (scripts/test.sh runs it)
#   KEEP=1 sh test/install/run.sh   keep the scratch directory
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/inventory-install-test.XXXXXX) || { echo "install: 0 passed, 1 failed"; exit 1; }
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "install: kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0
ok() { passed=$((passed + 1)); }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# check NAME COMMAND...: the command succeeds
check() { name=$1; shift; if "$@" >"$WORK/last.out" 2>&1; then ok; else not_ok "$name"; tail -n 15 "$WORK/last.out"; fi; }

SRC=$WORK/src
DEST=$WORK/dest
PREFIX=/usr/local
P=$DEST$PREFIX

# a fresh copy: the tracked files only (no build/, no lib/)
mkdir -p "$SRC"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z | xargs -0 cp --parents -t "$SRC" 2>/dev/null)
else
  (cd "$ROOT" && tar cf - --exclude=./build --exclude=./lib . | tar xf - -C "$SRC")
fi
check "a fresh copy has the sources" test -f "$SRC/Makefile" -a -f "$SRC/bin/inventory" -a ! -d "$SRC/lib"

check "make install PREFIX=$PREFIX DESTDIR=..." make -s -C "$SRC" -j2 install PREFIX=$PREFIX DESTDIR="$DEST"
for f in bin/inventory lib/lua/5.4/inventory/core.so lib/lua/5.1/inventory/core.so \
         share/lua/5.4/inventory/init.lua share/lua/5.1/inventory/init.lua \
         share/lua/5.4/inventory/cli.lua share/lua/5.1/inventory/metrics.lua \
         share/inventory/nginx/nginx.conf share/inventory/systemd/inventory-nginx.service \
         share/inventory/prometheus/inventory-alerts.yml; do
  check "installed $f" test -f "$P/$f"
done
check "bin/inventory is executable" test -x "$P/bin/inventory"
check "its module paths are written in" grep -q "^local INSTALL_LUA, INSTALL_LIB = \"$PREFIX/share/lua\", \"$PREFIX/lib/lua\"" "$P/bin/inventory"

# the installed command, from elsewhere, with no Lua paths and the checkout gone from view
CLEAN="env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT -u INVENTORY_DB -u INVENTORY_URL -u INVENTORY_DOMAIN"
cd "$WORK" || exit 1
mv "$SRC" "$SRC.moved"
check "installed: inventory create" $CLEAN "$P/bin/inventory" --db "$WORK/x.db" --domain d1 create \
  -p collector_id=c1 -p 'tasks=[{"secret_id":"s1"}]' -o ids
check "installed: inventory list (json)" sh -c "$CLEAN '$P/bin/inventory' --db '$WORK/x.db' --domain d1 list job | grep -q '\"total_count\":1'"
check "installed: inventory check" $CLEAN "$P/bin/inventory" --db "$WORK/x.db" check -o table
check "installed: inventory version under luajit" sh -c "$CLEAN luajit '$P/bin/inventory' --db '$WORK/x.db' version -o table | grep -q 'LuaJIT'"
check "installed: require \"inventory\" (lua5.4)" sh -c "$CLEAN LUA_PATH='$P/share/lua/5.4/?.lua;$P/share/lua/5.4/?/init.lua;;' \
  LUA_CPATH='$P/lib/lua/5.4/?.so;;' lua5.4 -e 'local inv = assert(require(\"inventory\").open{path=\"$WORK/x.db\"}) \
  assert(inv.job.list{domain_id=\"d1\"}.total_count == 1)'"
check "installed: require \"inventory\" (luajit)" sh -c "$CLEAN LUA_PATH='$P/share/lua/5.1/?.lua;$P/share/lua/5.1/?/init.lua;;' \
  LUA_CPATH='$P/lib/lua/5.1/?.so;;' luajit -e 'local inv = assert(require(\"inventory\").open{path=\"$WORK/x.db\"}) \
  assert(inv.job.list{domain_id=\"d1\"}.total_count == 1)'"
mv "$SRC.moved" "$SRC"

# the installed nginx example, with its paths pointed into the DESTDIR, passes nginx -t
# (init_by_lua requires inventory, rest, ngx and metrics from the installed tree)
if command -v nginx >/dev/null 2>&1; then
  NP=$WORK/nginx
  mkdir -p "$NP/conf/extra.d" "$NP/logs" "$NP/temp" "$NP/html"
  sed -e "s|$PREFIX/share/lua/|$P/share/lua/|g" -e "s|$PREFIX/lib/lua/|$P/lib/lua/|g" \
      -e "s|@PORT@|1|; s|@WORKERS@|1|; s|@DB@|$WORK/x.db|; s|@TOKENS@|$WORK/tokens.json|" \
      -e "s|@SWEEP_INTERVAL@|0|; s|@PURGE_INTERVAL@|0|; s|@USER_DIRECTIVE@|# user|" \
      "$P/share/inventory/nginx/nginx.conf" > "$NP/conf/nginx.conf"
  check "installed nginx.conf: no @ROOT@ left" sh -c "! grep -v '^ *#' '$P/share/inventory/nginx/nginx.conf' | grep -q '@ROOT@'"
  check "installed nginx.conf passes nginx -t" env -u LUA_PATH -u LUA_CPATH nginx -q -t -p "$NP/" -c conf/nginx.conf

  # served from the installed tree with a store that cannot be opened: /healthz
  # answers 503 with a JSON error, /metrics still answers (promtool-clean)
  chmod 755 "$WORK"
  echo '{"t":{"domain_id":"d1","role":"DOMAIN_ADMIN"}}' > "$WORK/tokens.json"
  chmod 644 "$WORK/tokens.json"
  NPID=""
  for attempt in 1 2 3 4 5; do
    PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
    sed -e "s|$PREFIX/share/lua/|$P/share/lua/|g" -e "s|$PREFIX/lib/lua/|$P/lib/lua/|g" \
        -e "s|@PORT@|$PORT|; s|@WORKERS@|1|; s|@DB@|/nonexistent-inventory-dir/x.db|; s|@TOKENS@|$WORK/tokens.json|" \
        -e "s|@SWEEP_INTERVAL@|0|; s|@PURGE_INTERVAL@|0|; s|@USER_DIRECTIVE@|# user|" \
        "$P/share/inventory/nginx/nginx.conf" > "$NP/conf/nginx.conf"
    : > "$NP/logs/error.log"
    env -u LUA_PATH -u LUA_CPATH nginx -p "$NP/" -c conf/nginx.conf >"$WORK/nginx.out" 2>&1 &
    NPID=$!
    up=""
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      if curl -s -o /dev/null "http://127.0.0.1:$PORT/started"; then up=1; break; fi
      kill -0 "$NPID" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$up" ] && break
    kill -QUIT "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null; NPID=""
  done
  if [ -n "$NPID" ]; then
    check "installed nginx: /healthz is 503 with a JSON error when the store cannot open" sh -c \
      "curl -s -w ' %{http_code}' http://127.0.0.1:$PORT/healthz | grep -q '^{\"error\":{\"code\":\"ERROR_[A-Z_]*\",\"message\":\"[^\"]*\"}} 503\$'"
    check "installed nginx: /metrics answers and passes promtool" sh -c \
      "curl -sf http://127.0.0.1:$PORT/metrics > '$WORK/metrics.txt' && grep -q '^inventory_http_requests_total{route=\"/healthz\",code=\"503\"} 1\$' '$WORK/metrics.txt' \
       && { ! command -v promtool >/dev/null || promtool check metrics < '$WORK/metrics.txt'; }"
    kill -QUIT "$NPID" 2>/dev/null
    wait "$NPID" 2>/dev/null
  else
    not_ok "the installed nginx example did not start"; tail -n 5 "$NP/logs/error.log" "$WORK/nginx.out"
  fi
fi

check "make uninstall" make -s -C "$SRC" uninstall PREFIX=$PREFIX DESTDIR="$DEST"
check "uninstall leaves no file" sh -c "test -z \"\$(find '$DEST' -type f)\""

# the rockspec, offline, into a tree of its own: modules and bin/inventory
if command -v luarocks >/dev/null 2>&1; then
  TREE=$WORK/tree
  check "luarocks make (5.4)" sh -c "cd '$SRC' && luarocks --lua-version=5.4 make --deps-mode=none --tree='$TREE' \
    inventory-scm-1.rockspec"
  check "luarocks: bin/inventory runs" sh -c "$CLEAN '$TREE/bin/inventory' --db '$WORK/x.db' --domain d1 list job -o ids | grep -q '^job-'"
fi

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# test/packaging/run.sh: what a user of the rock gets. From a scratch copy of
# this checkout (tracked and untracked files, not build/ or lib/):
#   - the rockspec lints and names no machine path; LICENSE is the full
#     Apache-2.0 text the rockspec names; CHANGELOG.md covers this version
#   - luarocks make for Lua 5.4 and for LuaJIT (--lua-version=5.1) installs a
#     module that loads and answers, and leaves nothing in the checkout but
#     build/ (no src/*.o, no ./inventory/core.so to shadow the right module)
#   - make clean removes what an older builtin build left there
# Closing line: "packaging: N passed, N failed". About 20 s (two -O2 builds).
#
#   bash test/packaging/run.sh        (make test-packaging; CI runs it)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "not ok - $*"; }
check() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }

for bin in luarocks lua5.4 luajit git make; do
  command -v $bin >/dev/null 2>&1 || { echo "packaging: $bin is not installed"; echo "packaging: 0 passed, 1 failed"; exit 1; }
done

WORK=$(mktemp -d /tmp/inventory-packaging.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/src
mkdir "$SRC"
cd "$ROOT" || exit 1
{ git ls-files -z; git ls-files -z -o --exclude-standard; } | while IFS= read -r -d '' f; do
  [ -f "$f" ] && cp --parents "$f" "$SRC/"
done
cd "$SRC" || exit 1
git init -q && git add -A && git -c user.email=t@localhost -c user.name=t commit -qm scratch

ROCKSPEC=$(ls ./*.rockspec | head -n 1)
check "luarocks lint $ROCKSPEC" luarocks lint "$ROCKSPEC"
url=$(lua5.4 -e "local t = {}; loadfile('$ROCKSPEC', 't', t)(); print(t.source.url)")
check "source.url is a git URL without a machine path ($url)" \
  bash -c "[[ '$url' == git+* && '$url' != *:///* ]]"
license=$(lua5.4 -e "local t = {}; loadfile('$ROCKSPEC', 't', t)(); print(t.description.license)")
check "LICENSE is the full Apache-2.0 text the rockspec names ($license)" \
  bash -c "[ '$license' = Apache-2.0 ] && grep -q 'Version 2.0, January 2004' LICENSE \
           && grep -q 'END OF TERMS AND CONDITIONS' LICENSE && [ \$(wc -l < LICENSE) -ge 200 ]"
version=$(sed -n 's/.*#define INV_VERSION *"\(.*\)".*/\1/p' include/inventory.h)
check "CHANGELOG.md has a section for $version" grep -q "^## .*$version" CHANGELOG.md

rockcheck() {   # rockcheck LUA TREE LUAVER: the installed rock loads (even with ./?.so first) and answers
  (cd "$SRC" && "$1" -e "package.path = '$2/share/lua/$3/?.lua;$2/share/lua/$3/?/init.lua;' .. package.path
    package.cpath = './?.so;$2/lib/lua/$3/?.so;' .. package.cpath
    local inventory = require 'inventory'
    local inv = assert(inventory.open{ path = ':memory:' })
    assert(inv.job.create{ domain_id = 'd', collector_id = 'c', tasks = { {} } })
    assert(inv.job.list{ domain_id = 'd' }.total_count == 1)
    assert(package.searchpath == nil or package.searchpath('inventory.core', package.cpath):find('$2', 1, true))")
}
leftovers() {   # nothing but build/ is left untracked or ignored
  local extra
  extra=$(git status --short --ignored | grep -v '^!! build/$')
  [ -z "$extra" ] || { echo "$extra" | head -n 20; return 1; }
}

check "luarocks --lua-version=5.4 make" \
  bash -c "luarocks --lua-version=5.4 make --tree='$WORK/t54' > '$WORK/rock54.log' 2>&1 || { tail -n 20 '$WORK/rock54.log'; exit 1; }"
check "the 5.4 rock loads and answers" rockcheck lua5.4 "$WORK/t54" 5.4
check "luarocks --lua-version=5.1 make (LuaJIT)" \
  bash -c "luarocks --lua-version=5.1 make --tree='$WORK/t51' LUA_INCDIR=/usr/include/luajit-2.1 \
           > '$WORK/rock51.log' 2>&1 || { tail -n 20 '$WORK/rock51.log'; exit 1; }"
check "the LuaJIT rock loads and answers" rockcheck luajit "$WORK/t51" 5.1
pgcheck() {     # pgcheck LUA TREE LUAVER: the rock's inventory.pg loads (built where libpq's header is)
  (cd "$SRC" && "$1" -e "package.path = '$2/share/lua/$3/?.lua;$2/share/lua/$3/?/init.lua;' .. package.path
    package.cpath = '$2/lib/lua/$3/?.so'
    assert(require('inventory.pg').libpq_version > 0)
    -- the backend is there: a server that is not is 'unavailable', not 'not in this build'
    local inv, msg, _, class = require('inventory').open{ url = 'postgresql://127.0.0.1:1/x' }
    assert(inv == nil and class == 'unavailable', msg)")
}
if [ -f /usr/include/postgresql/libpq-fe.h ]; then
  check "the 5.4 rock has inventory.pg" pgcheck lua5.4 "$WORK/t54" 5.4
  check "the LuaJIT rock has inventory.pg" pgcheck luajit "$WORK/t51" 5.1
fi
check "luarocks make leaves nothing in the checkout but build/" leftovers

mkdir -p inventory && : > inventory/core.so && : > src/inv_mem.o && : > src/lua/linventory.o
make -s clean >/dev/null 2>&1
check "make clean removes src/*.o and ./inventory/core.so" \
  bash -c "[ ! -e inventory/core.so ] && [ ! -e src/inv_mem.o ] && [ ! -e src/lua/linventory.o ] && [ ! -e build ]"

echo "packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

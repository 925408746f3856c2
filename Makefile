# inventory: a Cloudforet inventory Job/JobTask store in C on SQLite, with a Lua binding.
#
#   make run          install what is missing, build, seed a demo database if absent and
#                     serve the REST API and the console with nginx on 127.0.0.1:8089, with
#                     the demo collector simulator (examples/nginx/run.sh; PORT, PREFIX, SIMULATOR=0)
#   make console      the job console (console/) into build/console/ (npm ci, esbuild)
#   make quickstart   install what is missing, build, run examples/quickstart.lua
#   make test         install what is missing, build, run every suite
#   make              build both Lua modules (5.4 and LuaJIT/5.1)
#   make test-c       the C suite (core only, no Lua)
#   make test-packaging  luarocks make (5.4 and LuaJIT) from a scratch copy (CI)
#   make lint         luacheck (.luacheckrc) and cppcheck (.cppcheck), both clean
#   make asan         C suite and busted (5.4) under AddressSanitizer + UBSan (with
#                     INVENTORY_TEST_URL: on PostgreSQL too; CI starts one)
#   make valgrind     C suite under valgrind
#   make fuzz-replay  the libFuzzer targets on every committed input (deterministic; CI)
#   make fuzz         libFuzzer exploring, FUZZ_SECONDS=60 per target
#   make install      PREFIX=/usr/local DESTDIR=: both Lua modules, the Lua files, the
#                     inventory command, the nginx, systemd and Prometheus examples
#   make uninstall    the same PREFIX and DESTDIR: removes what install put there
#
# Tunables (-D): INV_STMT_CACHE, INV_MAX_LIST, INV_MAX_CONDS, INV_MAX_ID, INV_BUF_KEEP, INV_MAX_VALUE,
# INV_REGEX_MATCH_LIMIT, INV_REGEX_DEPTH_LIMIT, INV_REGEX_TIME_BUDGET_MS.

CC       ?= cc
OPT      ?= -O2
WARN      = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
            -Wconversion
# CI sets WERROR=-Werror (.ci/run): a warning fails its build
WERROR   ?=
CFLAGS   ?= $(OPT) -g
ALLCFLAGS = -std=c99 -fPIC $(WARN) $(WERROR) $(CFLAGS) -Iinclude -Isrc
LIBS      = -lsqlite3 -lpcre2-8 -lm
LUA54_INC ?= /usr/include/lua5.4
LUAJIT_INC ?= /usr/include/luajit-2.1

CORE_SRC = src/inv_mem.c src/inv_buf.c src/inv_value.c src/inv_json.c src/inv_time.c src/inv_schema.c \
           src/inv_store.c src/inv_req.c src/inv_api.c src/inv_sql.c src/inv_keys.c src/inv_filter.c \
           src/inv_read.c src/inv_render.c src/inv_life.c src/inv_journal.c src/inv_stage.c \
           src/inv_pipeline.c src/inv_analyze.c src/inv_regex.c src/inv_msg.c src/inv_reqcache.c \
           src/sqlite/sqlite_driver.c src/sqlite/sqlite_dialect.c src/sqlite/sqlite_func.c \
           src/sqlite/sqlite_regex.c src/sqlite/sqlite_admin.c src/inv_admin.c
CORE_HDR = include/inventory.h src/inv_val.h src/inv_int.h src/inv_backend.h src/inv_stat.h src/inv_regex.h \
           src/sqlite/sqlite_int.h
# the PostgreSQL backend: its own library (libpq), and Lua module inventory.pg
PG_SRC = src/pg/pg_driver.c src/pg/pg_dialect.c src/pg/pg_schema.c src/pg/pg_regex.c
PG_INC ?= /usr/include/postgresql
PG_LIBS = -lpq
TEST_SRC = $(filter-out test/c/test_main.c,$(wildcard test/c/test_*.c)) test/c/tbackend.c

# B: object/test directory, L: module tree (sanitizer builds use their own)
B ?= build
L ?= lib
MOD54  = $(L)/lua/5.4/inventory/core.so
MOD51  = $(L)/lua/5.1/inventory/core.so
PGMOD54 = $(L)/lua/5.4/inventory/pg.so
PGMOD51 = $(L)/lua/5.1/inventory/pg.so

.PHONY: all deps run test test-c test-lua asan valgrind fuzz fuzz-replay fuzz-merge clean console

all: $(MOD54) $(MOD51) $(PGMOD54) $(PGMOD51) $(B)/test_c

$(B)/core/%.o: src/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -c $< -o $@

CORE_OBJ = $(patsubst src/%.c,$(B)/core/%.o,$(CORE_SRC))

# the core as a static library: built without any Lua include path, so an
# accidental #include "lua.h" in the core fails here
$(B)/libinvcore.a: $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

PG_OBJ = $(patsubst src/pg/%.c,$(B)/pg/%.o,$(PG_SRC))
$(B)/pg/%.o: src/pg/%.c src/pg/pg_int.h $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -I$(PG_INC) -c $< -o $@
$(B)/libinvpg.a: $(PG_OBJ)
	rm -f $@
	ar rcs $@ $^

$(PGMOD54): src/lua/lpg.c src/lua/lcompat.h $(B)/libinvpg.a $(B)/libinvcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -I$(LUA54_INC) -I$(PG_INC) -shared src/lua/lpg.c \
	  $(B)/libinvpg.a $(B)/libinvcore.a $(PG_LIBS) $(LIBS) -o $@

$(PGMOD51): src/lua/lpg.c src/lua/lcompat.h $(B)/libinvpg.a $(B)/libinvcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -I$(LUAJIT_INC) -I$(PG_INC) -shared src/lua/lpg.c \
	  $(B)/libinvpg.a $(B)/libinvcore.a $(PG_LIBS) $(LIBS) -o $@

$(MOD54): src/lua/linventory.c src/lua/lcompat.h $(B)/libinvcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -I$(LUA54_INC) -shared src/lua/linventory.c \
	  $(B)/libinvcore.a $(LIBS) -o $@

$(MOD51): src/lua/linventory.c src/lua/lcompat.h $(B)/libinvcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -I$(LUAJIT_INC) -shared src/lua/linventory.c \
	  $(B)/libinvcore.a $(LIBS) -o $@

$(B)/test_c: $(TEST_SRC) test/c/test_main.c test/c/tharness.h test/c/tbackend.h test/c/tests.def \
             $(B)/libinvcore.a $(B)/libinvpg.a
	$(CC) $(ALLCFLAGS) -Itest/c -I$(PG_INC) test/c/test_main.c $(TEST_SRC) $(B)/libinvpg.a $(B)/libinvcore.a \
	  $(PG_LIBS) $(LIBS) -o $@

deps:
	@sh scripts/deps.sh

# the console: npm packages from package-lock.json (node_modules/, not committed),
# then one bundle with esbuild (console/build.mjs)
CONSOLE_SRC = $(wildcard console/src/*.js console/src/*.css) console/index.html console/favicon.svg console/build.mjs
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build/console/index.html: $(CONSOLE_SRC) node_modules/.package-lock.json
	node console/build.mjs build/console

console: build/console/index.html

run: deps all console
	sh examples/nginx/run.sh

.PHONY: quickstart
quickstart: deps all
	lua5.4 examples/quickstart.lua $(or $(DB),quickstart.db)

test: deps all console
	@sh scripts/test.sh

test-c: $(B)/test_c
	./$(B)/test_c

.PHONY: test-packaging
test-packaging:
	bash test/packaging/run.sh

# AddressSanitizer + UBSan: the C suite (with leak checks) and the busted
# specs under Lua 5.4, from a separate build tree.
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# With INVENTORY_TEST_URL set (a PostgreSQL server), both run on it too.
ASAN_BUSTED = LD_PRELOAD="$$(clang -print-file-name=libclang_rt.asan-x86_64.so)" \
	  INV_TEST_TIME_SCALE=10 ASAN_OPTIONS=detect_leaks=0 lua5.4 /usr/bin/busted --lpath='./lua/?.lua;./lua/?/init.lua;./?.lua' \
	  --cpath='./build/asan/lib/lua/5.4/?.so' spec
asan:
	$(MAKE) B=build/asan L=build/asan/lib CC=clang CFLAGS="$(ASAN_FLAGS)" build/asan/test_c \
	  build/asan/lib/lua/5.4/inventory/core.so build/asan/lib/lua/5.4/inventory/pg.so
	INVENTORY_TEST_URL= ASAN_OPTIONS=detect_leaks=1 ./build/asan/test_c
	INVENTORY_TEST_URL= $(ASAN_BUSTED)
	if [ -n "$$INVENTORY_TEST_URL" ]; then ASAN_OPTIONS=detect_leaks=1 ./build/asan/test_c && $(ASAN_BUSTED); fi

# valgrind: the C suite, and the busted specs under Lua 5.4 (definite leaks
# and errors fail; Lua's own allocations are reachable at exit).
valgrind: $(B)/test_c $(MOD54)
	INV_REGEX_NO_JIT=1 valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect ./$(B)/test_c
	INV_TEST_TIME_SCALE=30 INV_REGEX_NO_JIT=1 valgrind -q --error-exitcode=1 --leak-check=full \
	  --errors-for-leak-kinds=definite lua5.4 /usr/bin/busted --lpath='./lua/?.lua;./lua/?/init.lua;./?.lua' --cpath='./$(L)/lua/5.4/?.so' spec

# also what an older rockspec's builtin build left in the checkout (src/*.o,
# ./inventory/core.so: that one shadows the right module from ./?.so)
clean:
	rm -rf build lib node_modules
	rm -f src/*.o src/lua/*.o inventory/core.so
	-rmdir inventory 2>/dev/null || true

# ---- fuzz: libFuzzer on the request compilers and the JSON writer ----
# One target per fuzz/fuzz_<name>.c: query (list), stat (stat, analyze), json
# (parser and writers), built with ASan and UBSan. Seeds and the regression
# inputs are in fuzz/corpus/<name>/, the dictionary (if any) is
# fuzz/<name>.dict. fuzz/run.sh runs them and reports (see its header):
#   make fuzz-replay   every committed input once; deterministic (CI, first)
#   make fuzz          explore for FUZZ_SECONDS (CI: 60) per target (or FUZZ_RUNS runs
#                      from seed FUZZ_SEED) from fuzz/corpus-run/<name>/
#   make fuzz-merge    keep what exploring found that reaches new code
# FUZZ_TARGETS=stat limits a run; FUZZ_ARGS adds libFuzzer flags.
FUZZ_CC      ?= clang
FUZZ_TARGETS ?= query stat json
FUZZ_CFLAGS   = -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                $(WARN) $(WERROR) -Iinclude -Isrc
FUZZ_BIN      = $(patsubst %,build/fuzz_%,$(FUZZ_TARGETS))

build/fuzz_%: fuzz/fuzz_%.c fuzz/fixture.h $(CORE_SRC) $(CORE_HDR)
	@mkdir -p build
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CORE_SRC) $< $(LIBS) -o $@

fuzz: $(FUZZ_BIN)
	sh fuzz/run.sh explore $(FUZZ_TARGETS)

fuzz-replay: $(FUZZ_BIN)
	sh fuzz/run.sh replay $(FUZZ_TARGETS)

fuzz-merge: $(FUZZ_BIN)
	sh fuzz/run.sh merge $(FUZZ_TARGETS)

# ---- benchmarks (bench/README.md): make bench (full), make bench-quick (CI), make bench-scale ----
BENCH_BIN = build/bench/gen build/bench/limit.so build/bench/5.1/limit.so build/bench/gen_pg \
            build/bench/limit_pg.so

build/bench/gen: bench/gen.c include/inventory.h $(B)/libinvcore.a
	@mkdir -p build/bench
	$(CC) $(ALLCFLAGS) bench/gen.c $(B)/libinvcore.a $(LIBS) -o $@

build/bench/limit.so: bench/limit.c
	@mkdir -p build/bench
	$(CC) $(ALLCFLAGS) -I$(LUA54_INC) -shared bench/limit.c -lsqlite3 -o $@

# PostgreSQL (bench/README.md): the same rows into one database (schemas inventory and
# hand), and the limit's module over libpq
build/bench/gen_pg: bench/gen.c include/inventory.h $(B)/libinvcore.a $(B)/libinvpg.a
	@mkdir -p build/bench
	$(CC) $(ALLCFLAGS) -DGEN_PG -I$(PG_INC) bench/gen.c $(B)/libinvpg.a $(B)/libinvcore.a $(PG_LIBS) $(LIBS) -o $@

build/bench/limit_pg.so: bench/limit_pg.c
	@mkdir -p build/bench
	$(CC) $(ALLCFLAGS) -I$(LUA54_INC) -I$(PG_INC) -shared bench/limit_pg.c $(PG_LIBS) -o $@

# the same module for LuaJIT: the hand-written OpenResty handler (bench/rest_limit.lua)
build/bench/5.1/limit.so: bench/limit.c
	@mkdir -p build/bench/5.1
	$(CC) $(ALLCFLAGS) -I$(LUAJIT_INC) -shared bench/limit.c -lsqlite3 -o $@

.PHONY: bench bench-quick bench-scale
bench: $(MOD54) $(MOD51) $(BENCH_BIN)
	@sh bench/run.sh full

bench-quick: $(MOD54) $(MOD51) $(BENCH_BIN)
	@sh bench/run.sh quick

# how cost grows: 10k, 100k, 1M and 10M tasks (BENCH_SCALE_10M=0: without 10M)
bench-scale: $(MOD54) $(MOD51) $(BENCH_BIN)
	@sh bench/run.sh scale

# ---- install: PREFIX/lib/lua/{5.4,5.1}/inventory/core.so (lua5.4, LuaJIT/nginx),
# PREFIX/share/lua/{5.4,5.1}/inventory/*.lua, PREFIX/bin/inventory (its module
# paths written in), PREFIX/share/inventory/{nginx,systemd,prometheus}/.
PREFIX  ?= /usr/local
DESTDIR ?=
LUA_MODS = $(sort $(wildcard lua/inventory/*.lua))
SHARE    = $(DESTDIR)$(PREFIX)/share/inventory
INSTALLED_LUA = $(foreach v,5.4 5.1,$(patsubst lua/inventory/%,$(DESTDIR)$(PREFIX)/share/lua/$(v)/inventory/%,$(LUA_MODS)) \
                $(DESTDIR)$(PREFIX)/lib/lua/$(v)/inventory/core.so $(DESTDIR)$(PREFIX)/lib/lua/$(v)/inventory/pg.so)
EXAMPLES = nginx/nginx.conf nginx/README.md nginx/tokens.json systemd/inventory-nginx.service \
           systemd/inventory-backup.service systemd/inventory-backup.timer \
           prometheus/inventory-alerts.yml prometheus/inventory-alerts.test.yml

.PHONY: install uninstall
install: $(MOD54) $(MOD51)
	@for v in 5.4 5.1; do \
	  install -d "$(DESTDIR)$(PREFIX)/lib/lua/$$v/inventory" "$(DESTDIR)$(PREFIX)/share/lua/$$v/inventory"; \
	  install -m 0755 "$(L)/lua/$$v/inventory/core.so" "$(DESTDIR)$(PREFIX)/lib/lua/$$v/inventory/core.so"; \
	  if [ -f "$(L)/lua/$$v/inventory/pg.so" ]; then \
	    install -m 0755 "$(L)/lua/$$v/inventory/pg.so" "$(DESTDIR)$(PREFIX)/lib/lua/$$v/inventory/pg.so"; fi; \
	  install -m 0644 $(LUA_MODS) "$(DESTDIR)$(PREFIX)/share/lua/$$v/inventory/"; \
	done
	install -d "$(DESTDIR)$(PREFIX)/bin"
	sed -e 's|^local INSTALL_LUA, INSTALL_LIB = nil, nil.*|local INSTALL_LUA, INSTALL_LIB = "$(PREFIX)/share/lua", "$(PREFIX)/lib/lua"|' \
	  bin/inventory > "$(DESTDIR)$(PREFIX)/bin/inventory.tmp"
	chmod 0755 "$(DESTDIR)$(PREFIX)/bin/inventory.tmp"
	mv "$(DESTDIR)$(PREFIX)/bin/inventory.tmp" "$(DESTDIR)$(PREFIX)/bin/inventory"
	@for f in $(EXAMPLES); do install -d "$(SHARE)/$$(dirname $$f)"; \
	  install -m 0644 "examples/$$f" "$(SHARE)/$$f"; done
	# the nginx example, pointed at the installed LuaJIT modules
	sed -e 's|@ROOT@/lua/?.lua;@ROOT@/lua/?/init.lua|$(PREFIX)/share/lua/5.1/?.lua;$(PREFIX)/share/lua/5.1/?/init.lua|' \
	    -e 's|@ROOT@/lib/lua/5.1/|$(PREFIX)/lib/lua/5.1/|' examples/nginx/nginx.conf > "$(SHARE)/nginx/nginx.conf"
	@echo "installed under $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(INSTALLED_LUA) "$(DESTDIR)$(PREFIX)/bin/inventory" $(addprefix $(SHARE)/,$(EXAMPLES))
	-rmdir "$(SHARE)/nginx" "$(SHARE)/systemd" "$(SHARE)/prometheus" "$(SHARE)" 2>/dev/null
	-for v in 5.4 5.1; do rmdir "$(DESTDIR)$(PREFIX)/share/lua/$$v/inventory" \
	  "$(DESTDIR)$(PREFIX)/lib/lua/$$v/inventory" 2>/dev/null; done; true

# ---- LuaRocks: the rockspec's build.type = "make" ----
# luarocks make runs "make rock" with the paths of the Lua it builds for
# (LUA_INCDIR, CFLAGS, LIBFLAG, SQLITE_*DIR, PCRE2_*DIR), then "make
# rock-install" (INST_LIBDIR, INST_LUADIR). Objects and the module go to
# build/rock/<name of LUA_INCDIR>/ (lua5.4, luajit-2.1), one tree per Lua:
# nothing is written next to the sources or to ./inventory/.
LUA_INCDIR ?= $(LUA54_INC)
LIBFLAG    ?= -shared
ROCK_B      = build/rock/$(notdir $(LUA_INCDIR))
ROCK_INC    = $(if $(SQLITE_INCDIR),-I$(SQLITE_INCDIR)) $(if $(PCRE2_INCDIR),-I$(PCRE2_INCDIR))
ROCK_LIB    = $(if $(SQLITE_LIBDIR),-L$(SQLITE_LIBDIR)) $(if $(PCRE2_LIBDIR),-L$(PCRE2_LIBDIR))

# inventory.pg (the PostgreSQL backend) too when libpq's header is found
# (PG_INCDIR, else Debian's /usr/include/postgresql); without it only core.so.
PG_INCDIR ?= $(PG_INC)

.PHONY: rock rock-install
rock:
	$(MAKE) B=$(ROCK_B) CFLAGS="$(CFLAGS) $(ROCK_INC)" LIBS="$(ROCK_LIB) $(LIBS)" $(ROCK_B)/inventory/core.so
	@if [ -f "$(PG_INCDIR)/libpq-fe.h" ]; then \
	  $(MAKE) B=$(ROCK_B) PG_INC="$(PG_INCDIR)" CFLAGS="$(CFLAGS) $(ROCK_INC)" \
	    LIBS="$(ROCK_LIB) $(if $(PG_LIBDIR),-L$(PG_LIBDIR)) $(LIBS)" $(ROCK_B)/inventory/pg.so; \
	else echo "libpq-fe.h is not in $(PG_INCDIR): inventory.pg (PostgreSQL) not built"; fi

$(B)/inventory/core.so: src/lua/linventory.c src/lua/lcompat.h $(B)/libinvcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -I$(LUA_INCDIR) $(LIBFLAG) src/lua/linventory.c \
	  $(B)/libinvcore.a $(LIBS) -o $@

$(B)/inventory/pg.so: src/lua/lpg.c src/lua/lcompat.h $(B)/libinvpg.a $(B)/libinvcore.a
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) -fvisibility=hidden -I$(LUA_INCDIR) -I$(PG_INC) $(LIBFLAG) src/lua/lpg.c \
	  $(B)/libinvpg.a $(B)/libinvcore.a $(PG_LIBS) $(LIBS) -o $@

rock-install:
	install -d $(INST_LIBDIR)/inventory $(INST_LUADIR)/inventory
	install -m 755 $(ROCK_B)/inventory/core.so $(INST_LIBDIR)/inventory/core.so
	if [ -f $(ROCK_B)/inventory/pg.so ]; then install -m 755 $(ROCK_B)/inventory/pg.so $(INST_LIBDIR)/inventory/pg.so; fi
	install -m 644 lua/inventory/*.lua $(INST_LUADIR)/inventory/

# ---- lint: luacheck (.luacheckrc) and cppcheck (.cppcheck: the suppressions,
# each with its reason); both must be clean (CI runs make lint) ----
CPPCHECK_FLAGS = --std=c99 --enable=warning,style,performance,portability --max-configs=1 \
                 --error-exitcode=1 --inline-suppr --suppressions-list=.cppcheck -q \
                 -Iinclude -Isrc -I$(LUA54_INC) --template='{file}:{line}: {severity} {id}: {message}'
.PHONY: lint
lint:
	luacheck -q --no-color --formatter plain .
	cppcheck $(CPPCHECK_FLAGS) src test/c fuzz

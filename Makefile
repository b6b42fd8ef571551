# The front door.  `make demo` and `make test` install what is missing
# (Debian packages), build the core in ./build and run.
BUILD      ?= build
CMAKE_ARGS ?=
BUSTED     ?= busted --lua=lua5.4
LUA        ?= lua5.4
LUA_ENV     = LUA_PATH_5_4="./lua/?.lua;./lua/?/init.lua;;" LUA_CPATH_5_4="./$(BUILD)/?.so;;"

.PHONY: all deps build test demo examples host-build host-example sanitize fuzz rock bench clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -- --no-print-directory

# One busted per spec file, five at once (most wait on sockets, not on a
# core), each bounded by SPEC_TIMEOUT
# seconds (scripts/run_specs.sh): a hang fails its file, named, in
# seconds.  The last line is busted's summary for the whole run.  The C
# host examples are built first: host_spec runs them (pending without).
SPEC_TIMEOUT ?= 60
SPEC_JOBS    ?= 5
test: build host-build
	@BUSTED="$(BUSTED)" SPEC_TIMEOUT=$(SPEC_TIMEOUT) SPEC_JOBS=$(SPEC_JOBS) ./scripts/run_specs.sh --cpath="./$(BUILD)/?.so"

# The tour, then a job done one request at a time and concurrently with
# the sandbox 50 ms away, as the services are.
demo: build
	@$(LUA_ENV) $(LUA) scripts/with_sandbox.lua $(LUA) examples/tour.lua
	@echo
	@SANDBOX_LATENCY=0.05 $(LUA_ENV) $(LUA) scripts/with_sandbox.lua $(LUA) examples/many_at_once.lua

examples: build
	@for e in tour friend_requests inbox presence_watch moderation_bot dashboard inbox_cleaner traffic_log long_job; do \
	  echo "== examples/$$e.lua"; \
	  $(LUA_ENV) $(LUA) scripts/with_sandbox.lua $(LUA) examples/$$e.lua || exit 1; \
	done
	@for e in many_at_once game_loop; do \
	  echo "== examples/$$e.lua (the sandbox 50 ms away)"; \
	  SANDBOX_LATENCY=0.05 $(LUA_ENV) $(LUA) scripts/with_sandbox.lua $(LUA) examples/$$e.lua || exit 1; \
	done
	@$(MAKE) --no-print-directory host-example

# The C host (examples/host/): Lua 5.4 linked in statically, the core
# linked in (build/host) or loaded from core.so (build/host_module), each
# driving its tasks from a 60 Hz frame loop with the sandbox 50 ms away.
# Without -Wl,-E the host cannot load core.so: checked too (README
# "Embedding in a C host").
# host-build builds them only (for host_spec, under make test).
HOST_RUN = SANDBOX_LATENCY=0.05 $(LUA_ENV) $(LUA) scripts/with_sandbox.lua
host-build: build
	@cmake -S . -B $(BUILD) -DRS_EXAMPLES=ON >/dev/null
	@cmake --build $(BUILD) --target host host_module host_module_unexported -- --no-print-directory
host-example: host-build
	@echo "== examples/host/host.c, the core linked in (the sandbox 50 ms away)"
	@$(HOST_RUN) ./$(BUILD)/host lua examples/host/frame.lua
	@echo "== examples/host/host.c, the core loaded from $(BUILD)/robloxsocial/core.so"
	@$(HOST_RUN) ./$(BUILD)/host_module lua examples/host/frame.lua "./$(BUILD)/?.so"
	@echo "== examples/host/host.c linked without -Wl,-E cannot load core.so"
	@out=$$(./$(BUILD)/host_module_unexported lua examples/host/frame.lua "./$(BUILD)/?.so" 2>&1); \
	if echo "$$out" | grep -q "undefined symbol: lua_"; then \
	  echo "$$out" | grep -o "undefined symbol: lua_[a-z_]*"; \
	else \
	  echo "$$out"; echo "host-example: expected 'undefined symbol: lua_...'"; exit 1; \
	fi

# The specs again with the core built under ASan and UBSan; any report fails.
sanitize:
	@./scripts/sanitize.sh

# The JSON codec under a mutational fuzzer with ASan and UBSan.
FUZZ_SECONDS ?= 60
fuzz: deps
	@mkdir -p build-fuzz
	@cc -std=c11 -g -O1 -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow \
	  -Wall -Wextra -Wpedantic -Werror -I/usr/include/lua5.4 -Icsrc \
	  fuzz/json_fuzz.c csrc/json_decode.c csrc/json_encode.c -llua5.4 -lm -o build-fuzz/json_fuzz
	@build-fuzz/json_fuzz $(FUZZ_SECONDS)

rock: deps
	luarocks --lua-version=5.4 make --deps-mode=none --tree $${TREE:-/tmp/robloxsocial-tree} robloxsocial-scm-1.rockspec

bench: build
	@$(MAKE) --no-print-directory -C bench

clean:
	rm -rf build build-* build.luarocks

# HTTP/2 connections of first bursts (issue 21): bench/h2/README.md.
.PHONY: bench-h2
bench-h2: build
	@bench/h2/run.sh

# The pacing bench (issue 20): bench/limits/README.md.
.PHONY: bench-limits
bench-limits: build
	@$(MAKE) --no-print-directory -C bench pacing

# The concurrency bench (issue 9): bench/concurrency/README.md.
.PHONY: bench-concurrency
bench-concurrency: build
	@$(MAKE) --no-print-directory -C bench concurrency

# Wake-ups of a host's event loop, and what the socket interface costs
# (issue 21): bench/hostloop/README.md.
.PHONY: bench-hostloop
bench-hostloop: build
	@bench/hostloop/run.sh
	@bench/hostloop/callgrind.sh
	@HOSTLOOP_WATCHED=1 bench/hostloop/callgrind.sh

# The fleet bench (issue 22): bench/fleet/README.md (needs redis-server).
.PHONY: bench-fleet
bench-fleet: build
	@lua5.4 bench/fleet/fleet.lua

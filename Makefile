# socksify — build, test and install.
#
#   make                 library, helper and wrapper (in build/)
#   make demo            fetch a page through socksify and a loopback proxy
#   make check           clang build, unit tests (plain, ASan+UBSan, valgrind),
#                        integration tests
#   make check-unit      unit tests only (plain build)
#   make -j2 check-build compile everything make check needs, in parallel
#   make install PREFIX=/usr/local DESTDIR=   (LIBDIR, MANDIR and the
#                        completion dirs may be set too; see below)
#   make uninstall       remove everything install put there (same variables)
#   make check-man       mandoc -Tlint the man pages (doc/)
#   make deb             build the Debian package (build/deb/*.deb), lintian
#   make check-deb       build, install and try it against microsocks (slow,
#                        not part of make check; needs root)
#   make format          clang-format every C file
#   make format-check    fail when a C file is not as clang-format writes it
#   make check-exports   the library exports exactly preload/exports.txt
#   make fuzz            libFuzzer targets (tests/fuzz/), FUZZ_SECONDS each
#   make check-fuzz      every fuzz target over its seed corpus, briefly
#   make stress          the stress suite (tests/stress/, minutes; not in
#                        make check, which runs t_stress.sh, a small one)
#   make soak            the soak: SOAK_SECONDS (default 600) at SOAK_RATE
#   make check-tsan      ThreadSanitizer build of the library, the threaded
#                        test programs and unit suites, and their run
#
# Every common/*.c goes into the library; every tests/unit/test_*.c is one
# Check suite linked against common/ (test_pl_*.c also against the preload
# objects in UNIT_PRELOAD_OBJ). New files need no Makefile edit.

VERSION  := 1.0.0
PREFIX   ?= /usr/local
BINDIR    = $(PREFIX)/bin
# The helper and the library live together in LIBDIR; the installed
# wrapper is told where (Debian: the multiarch directory).
LIBDIR   ?= $(PREFIX)/lib/socksify
DOCDIR   ?= $(PREFIX)/share/doc/socksify
EXAMPLEDIR ?= $(DOCDIR)
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
MAN_SRC  := doc/socksify.1 doc/socksify.conf.5

CC       ?= cc
WARN      = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	    -Wmissing-declarations -Wold-style-definition -Wvla -Wformat=2 -Wundef \
	    -Wpointer-arith -Wwrite-strings -Wimplicit-fallthrough -Wnull-dereference \
	    -Wdouble-promotion -Wnested-externs
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden \
	     -D_GNU_SOURCE -DSOCKSIFY_VERSION='"$(VERSION)"' -Icommon -Ipreload -Itools -MMD -MP \
	     $(CPPFLAGS)
LDLIBS_SO = -ldl -lpthread

B        ?= build
# Quiet build lines; `make V=1` shows the full commands.
Q         = $(if $(V),,@)
say       = $(if $(V),,@printf '  %-6s %s\n' $(1) $(2);)
COMMON_SRC  := $(sort $(wildcard common/*.c))
PRELOAD_SRC := $(sort $(wildcard preload/*.c))
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
# Helpers shared by the suites (tests/unit/*.c that are not suites).
UNIT_SUPPORT_SRC := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))
PROG_SRC    := $(sort $(wildcard tests/integration/progs/*.c))
# uringconnect needs liburing (tests/install-deps.sh installs liburing-dev);
# without it the program is not built and t_guard.sh skips its part.
HAVE_LIBURING := $(shell printf '\043include <liburing.h>\n' | \
		   $(CC) -E -x c - >/dev/null 2>&1 && echo 1)
ifneq ($(HAVE_LIBURING),1)
PROG_SRC    := $(filter-out tests/integration/progs/uringconnect.c,$(PROG_SRC))
endif
# The stress suite's client and echo server (tests/stress/).
STRESS_SRC  := $(sort $(wildcard tests/stress/*.c))
# Statically linked test programs (the supervisor's, t_static.sh).
PROG_STATIC_SRC := $(sort $(wildcard tests/integration/progs_static/*.c))
# The files `make format` rewrites and `make format-check` checks.
FORMAT_SRC  := $(sort $(wildcard common/*.[ch] preload/*.[ch] tools/*.[ch] \
			tests/unit/*.[ch] tests/integration/progs/*.c \
			tests/integration/progs_static/*.c tests/fuzz/*.[ch] \
			tests/integration/fakegss/*.c tests/integration/faultopen/*.c \
			tests/stress/*.c))
CLANG_FORMAT ?= clang-format
# The symbols the library exports: the hooks, one a line.
EXPORTS     := preload/exports.txt

COMMON_OBJ  := $(COMMON_SRC:%.c=$(B)/%.o)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(B)/%.o)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# The suites' helpers, libc's I/O tables (tools/libc_io.c, shared with
# socksify-helper) and shell mode's code (tools/shellmode.c, test_shellmode).
UNIT_SUPPORT_OBJ := $(UNIT_SUPPORT_SRC:%.c=$(B)/%.o) $(B)/tools/libc_io.o \
		    $(B)/tools/shellmode.o
PROG_BIN    := $(PROG_SRC:tests/integration/progs/%.c=$(B)/progs/%)
PROG_STATIC_BIN := $(PROG_STATIC_SRC:tests/integration/progs_static/%.c=$(B)/progs_static/%)
STRESS_BIN  := $(STRESS_SRC:tests/stress/%.c=$(B)/stress/%)

CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

# Keep intermediate objects (test .o files): no rebuilds, and no "rm" lines
# after the test summary.
.SECONDARY:

.PHONY: all demo check check-clang check-unit check-asan check-valgrind check-integration \
	check-exports check-format check-selfbind unit-tests install uninstall format format-check clean bench \
	check-man deb check-deb fuzz fuzz-build check-fuzz check-build check-build-clang \
	check-build-asan stress soak check-tsan

# The Go test programs (t_go.sh), built only where Debian's golang-go is
# installed: GOPATH mode, every cache under build/go (a clean clone, no
# network, no $HOME).
GO	   := $(shell command -v go 2>/dev/null)
GO_ENV	   := GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
	      GOCACHE=$(CURDIR)/build/go/cache GOPATH=$(CURDIR)/build/go \
	      HOME=$(CURDIR)/build/go
PROG_GO_BIN := $(if $(GO),$(B)/progs_go/gohttp-static $(B)/progs_go/gohttp-cgo)

all: $(B)/libsocksify.so $(B)/socksify-helper $(PROG_BIN) $(PROG_STATIC_BIN) \
	$(PROG_GO_BIN) $(B)/fakegss/libfakegss.so $(B)/faultopen/libfaultopen.so \
	$(STRESS_BIN)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The version script exports the hooks in $(EXPORTS) and nothing else. Its
# one version node is anonymous: the symbols stay unversioned, so they
# interpose on libc's exactly as they would without it.
$(B)/exports.map: $(EXPORTS)
	@mkdir -p $(@D)
	$(call say,GEN,$@){ echo '{ global:'; sed -e '/^#/d' -e '/^$$/d' -e 's/.*/	&;/' $<; \
		echo 'local: *; };'; } >$@

$(B)/libsocksify.so: $(PRELOAD_OBJ) $(COMMON_OBJ) $(B)/exports.map
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-z,defs -Wl,-z,now \
		-Wl,--version-script=$(B)/exports.map -o $@ $(filter %.o,$^) $(LDLIBS_SO)

$(B)/socksify-helper: $(B)/tools/socksify-helper.o $(B)/tools/supervisor.o \
		$(B)/tools/proxyfile.o $(B)/tools/shellmode.o \
		$(B)/tools/doctor.o \
		$(B)/tools/supervisor_dns.o $(B)/tools/supervisor_sockets.o \
		$(B)/tools/supervisor_race.o $(B)/tools/preload_env.o \
		$(B)/tools/libc_io.o $(COMMON_OBJ)
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lpthread

$(B)/tests/%: $(B)/tests/unit/%.o $(UNIT_SUPPORT_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(CHECK_LIBS) -lpthread

# Suites named test_pl_*.c test preload/ code: they also link these preload
# objects, which export no hook (so nothing interposes on the test itself).
UNIT_PRELOAD_OBJ := $(B)/preload/async_record.o $(B)/preload/real.o \
		    $(B)/preload/trampoline.o $(B)/preload/recv_wait.o

$(B)/tests/test_pl_%: $(B)/tests/unit/test_pl_%.o $(UNIT_SUPPORT_OBJ) $(UNIT_PRELOAD_OBJ) $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_CFLAGS) -o $@ $^ $(CHECK_LIBS) -lpthread -ldl

$(B)/progs/%: tests/integration/progs/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -fvisibility=default -o $@ $< -lpthread $(PROG_LIBS)

$(B)/progs/uringconnect: PROG_LIBS = -luring

$(B)/stress/%: tests/stress/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -fvisibility=default -o $@ $< -lpthread

# A fake GSS-API library (t_gssapi_fast.sh loads it with
# SOCKSIFY_GSSAPI_LIBRARY in place of libgssapi_krb5.so.2).
$(B)/fakegss/libfakegss.so: tests/integration/fakegss/fakegss.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -shared -o $@ $<

# A shim preloaded after the library: its openat() fails with EMFILE for
# chosen paths (t_firstconnect.sh: the health table's file).
$(B)/faultopen/libfaultopen.so: tests/integration/faultopen/faultopen.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -shared -o $@ $< -ldl

# -static: glibc's static libraries come with libc6-dev.
$(B)/progs_static/%: tests/integration/progs_static/%.c
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -static -o $@ $< -lpthread

# CGO_ENABLED=0: a static binary with Go's own resolver; =1: a dynamic one.
$(B)/progs_go/gohttp-static: tests/integration/progs_go/main.go
	@mkdir -p $(@D) build/go
	$(call say,GO,$@)$(GO_ENV) CGO_ENABLED=0 $(GO) build -o $@ $<

$(B)/progs_go/gohttp-cgo: tests/integration/progs_go/main.go
	@mkdir -p $(@D) build/go
	$(call say,GO,$@)$(GO_ENV) CGO_ENABLED=1 CC=gcc $(GO) build -o $@ $<

unit-tests: $(UNIT_BIN)

check-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Each suite runs in one process (CK_FORK=no, as under valgrind): a fork
# per test under ASan costs minutes (the shadow mappings are copied each
# time); the plain check-unit keeps Check's fork per test.
check-asan:
	CK_FORK=no $(MAKE) B=build/asan CFLAGS='$(ASAN_CFLAGS)' check-unit

# Everything `make check` compiles, as independent targets, so that
# `make -j$(nproc) check-build` builds it in parallel before the (serial)
# `make check` runs the tests (CI does this).
check-build: all unit-tests fuzz-build check-build-clang check-build-asan

check-build-clang:
	$(MAKE) CC=clang B=build/clang all unit-tests

check-build-asan:
	$(MAKE) B=build/asan CFLAGS='$(ASAN_CFLAGS)' unit-tests

check-valgrind: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
		CK_FORK=no timeout 300 valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite $$t; done

check-integration: all
	tests/integration/run-all.sh

# The library, the unit tests and the test programs must build clean with
# clang as well as gcc, and the library export the same symbols.
check-clang:
	$(MAKE) CC=clang B=build/clang all unit-tests check-exports

# Exported symbols: the library's and the objects' own (an export missing
# from $(EXPORTS) would otherwise be hidden by the version script).
check-exports: $(B)/libsocksify.so
	$(Q)tests/check-exports.sh $(EXPORTS) $< $(PRELOAD_OBJ) $(COMMON_OBJ)

# `make check` runs the format check when clang-format is installed (CI
# installs it and runs format-check on its own).
check-format:
	@if command -v $(CLANG_FORMAT) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory format-check; \
	else \
		echo "format-check skipped: $(CLANG_FORMAT) is not installed"; \
	fi

# The library's own objects never call one of its hooks (common/ gets its
# system calls passed in).
check-selfbind: $(B)/libsocksify.so
	$(Q)tests/check-selfbind.sh $(B)

check: all check-format check-man check-exports check-selfbind check-clang check-unit \
	check-fuzz check-asan check-valgrind check-integration

# ---- fuzzing (libFuzzer, Debian's clang and libclang-rt-dev) ----
# Each tests/fuzz/fuzz_NAME.c is one target linked against common/ built
# with ASan+UBSan and coverage; its seed corpus is tests/fuzz/NAME/.
# `make fuzz` runs every target for FUZZ_SECONDS, keeping what it finds in
# build/fuzz/corpus/NAME (the seeds stay as committed: libFuzzer writes into
# its first directory only, and a target refuses a seed folder there, see
# tests/fuzz/fuzz.h); `make check-fuzz` runs every seed and FUZZ_CHECK_RUNS
# mutations of them per target, checks that a target given its seed folder
# first refuses to run, and fails when anything under tests/fuzz/ was
# written during the check.
FUZZ_CC	       ?= clang
FUZZ_SECONDS   ?= 60
FUZZ_CHECK_RUNS ?= 3000
FUZZ_B	       := build/fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS    := -std=gnu11 $(WARN) -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
		  -D_GNU_SOURCE -DSOCKSIFY_VERSION='"$(VERSION)"' -Icommon -Itests/fuzz
FUZZ_SRC       := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES     := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN       := $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz_%)
FUZZ_COMMON_OBJ := $(COMMON_SRC:%.c=$(FUZZ_B)/%.o)

$(FUZZ_B)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(call say,FUZZCC,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON_OBJ)
	@mkdir -p $(@D)
	$(call say,FUZZLD,$@)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< \
		$(FUZZ_COMMON_OBJ) -lpthread

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@set -e; for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_B)/corpus/$$n; echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
		$(FUZZ_B)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_B)/crash-$$n- \
			$(FUZZ_B)/corpus/$$n tests/fuzz/$$n 2>$(FUZZ_B)/$$n.log || \
			{ tail -40 $(FUZZ_B)/$$n.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done|cov:' $(FUZZ_B)/$$n.log | tail -3; \
	done

check-fuzz: fuzz-build
	@set -e; mkdir -p $(FUZZ_B)/check; touch $(FUZZ_B)/check/.start; \
	for n in $(FUZZ_NAMES); do \
		printf '  %-6s %s\n' FUZZ $$n; \
		rm -rf $(FUZZ_B)/check/$$n; mkdir -p $(FUZZ_B)/check/$$n; \
		$(FUZZ_B)/fuzz_$$n -runs=$(FUZZ_CHECK_RUNS) -timeout=10 -seed=1 \
			-artifact_prefix=$(FUZZ_B)/crash-$$n- \
			$(FUZZ_B)/check/$$n tests/fuzz/$$n \
			>$(FUZZ_B)/$$n.check.log 2>&1 || \
			{ tail -40 $(FUZZ_B)/$$n.check.log; exit 1; }; \
	done; \
	printf '  %-6s %s\n' FUZZ "seed folder first: refused"; \
	if $(FUZZ_B)/fuzz_proxyurl -runs=$(FUZZ_CHECK_RUNS) -seed=1 \
		tests/fuzz/proxyurl >$(FUZZ_B)/seedfirst.log 2>&1 || \
		! grep -q 'scratch directory first' $(FUZZ_B)/seedfirst.log; then \
		echo "fuzz_proxyurl ran with its seed folder first:"; \
		tail -5 $(FUZZ_B)/seedfirst.log; exit 1; fi; \
	written=$$(find tests/fuzz -newer $(FUZZ_B)/check/.start | head -5); \
	if [ -n "$$written" ]; then \
		echo "check-fuzz wrote into tests/fuzz/ (restore it from git):"; \
		echo "$$written"; exit 1; fi

demo: all
	tests/demo.sh

# ---- stress (tests/stress/, README "Robustness"; not part of make check) ----
SOAK_SECONDS ?= 600
SOAK_RATE    ?= 20

stress: all
	tests/stress/run.sh

soak: all
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_RATE=$(SOAK_RATE) tests/stress/soak.sh

# ThreadSanitizer: the library, the threaded test programs and the unit
# suites that start threads, built with -fsanitize=thread in build/tsan;
# tests/stress/tsan.sh runs them (suppressions: tests/stress/tsan.supp).
# gcc, whose TSan runtime is a shared library: the program's calls reach
# our hooks first and our calls to libc go through TSan's interceptors, so
# TSan sees every lock we take. (clang links the runtime into the program,
# whose interceptors then call our hooks from inside theirs: TSan ignores
# the locks taken inside an intercepted poll() and reports races that are
# not.) -Wno-tsan: gcc warns that TSan does not model atomic_thread_fence
# (fdtab.c), see tsan.supp.
TSAN_B	     := build/tsan
TSAN_CC	     ?= gcc
TSAN_CFLAGS  := -O2 -g -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
TSAN_UNITS   := $(patsubst tests/unit/%.c,$(TSAN_B)/tests/%,\
		$(shell grep -l pthread_create $(UNIT_SRC)))
TSAN_PROGS   := $(TSAN_B)/progs/threads $(TSAN_B)/progs/asyncconn \
		$(TSAN_B)/stress/stressconn

check-tsan:
	$(MAKE) CC=$(TSAN_CC) B=$(TSAN_B) CFLAGS='$(TSAN_CFLAGS)' \
		LDFLAGS=-fsanitize=thread \
		$(TSAN_B)/libsocksify.so $(TSAN_UNITS) $(TSAN_PROGS)
	TSAN_B=$(TSAN_B) TSAN_UNITS='$(TSAN_UNITS)' tests/stress/tsan.sh


bench: all
	tests/bench/run.sh

# The installed wrapper gets LIBDIR's helper and library as defaults for
# SOCKSIFY_HELPER and SOCKSIFY_LIBRARY (a line after "#!"), so it finds them
# wherever LIBDIR is.
install: $(B)/libsocksify.so $(B)/socksify-helper
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(EXAMPLEDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	sed '1a : "$${SOCKSIFY_HELPER:=$(LIBDIR)/socksify-helper}" "$${SOCKSIFY_LIBRARY:=$(LIBDIR)/libsocksify.so}"' \
		tools/socksify >$(DESTDIR)$(BINDIR)/socksify
	chmod 755 $(DESTDIR)$(BINDIR)/socksify
	install -m 755 $(B)/socksify-helper $(DESTDIR)$(LIBDIR)/socksify-helper
	install -m 644 $(B)/libsocksify.so $(DESTDIR)$(LIBDIR)/libsocksify.so
	install -m 644 README $(DESTDIR)$(DOCDIR)/
	install -m 644 socksify.conf.example $(DESTDIR)$(EXAMPLEDIR)/
	install -m 644 doc/socksify.1 $(DESTDIR)$(MANDIR)/man1/socksify.1
	install -m 644 doc/socksify.conf.5 $(DESTDIR)$(MANDIR)/man5/socksify.conf.5
	install -m 644 completions/socksify.bash $(DESTDIR)$(BASHCOMPDIR)/socksify
	install -m 644 completions/_socksify $(DESTDIR)$(ZSHCOMPDIR)/_socksify

# Every file install wrote, and socksify's own directories.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/socksify $(DESTDIR)$(LIBDIR)/libsocksify.so \
		$(DESTDIR)$(LIBDIR)/socksify-helper \
		$(DESTDIR)$(MANDIR)/man1/socksify.1 \
		$(DESTDIR)$(MANDIR)/man5/socksify.conf.5 \
		$(DESTDIR)$(BASHCOMPDIR)/socksify $(DESTDIR)$(ZSHCOMPDIR)/_socksify
	rm -f $(DESTDIR)$(EXAMPLEDIR)/socksify.conf.example
	rm -rf $(DESTDIR)$(DOCDIR)
	[ ! -d $(DESTDIR)$(LIBDIR) ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(LIBDIR)

# The man pages must be lint-clean, warnings included, and
# socksify.conf(5) must describe every key of common/config_keys.c (that
# check needs no mandoc).
check-man:
	@if command -v mandoc >/dev/null 2>&1; then \
		echo "  MAN    check ($(words $(MAN_SRC)) pages)"; \
		mandoc -Tlint -W warning $(MAN_SRC); \
	else \
		echo "check-man skipped: mandoc is not installed"; \
	fi
	@tests/check-man-keys.sh common/config_keys.c doc/socksify.conf.5

# The Debian package, built in a copy of the tree (dpkg-buildpackage writes
# into the parent directory and cleans build/): build/deb/*.deb, and
# lintian's verdict on it.
DEB_TREE := build/deb/socksify-$(VERSION)
deb:
	rm -rf build/deb
	mkdir -p $(DEB_TREE)
	tar -c --exclude=./build --exclude=./.git . | tar -x -C $(DEB_TREE)
	cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	lintian --fail-on error,warning build/deb/socksify_$(VERSION)_*.changes

check-deb:
	$(Q)tests/check-deb.sh

format:
	$(CLANG_FORMAT) -i $(FORMAT_SRC)

format-check:
	$(call say,FORMAT,'check ($(words $(FORMAT_SRC)) files)')$(CLANG_FORMAT) --dry-run -Werror \
		--ferror-limit=1 $(FORMAT_SRC)

clean:
	rm -rf build

-include $(shell find $(B) -name '*.d' 2>/dev/null)

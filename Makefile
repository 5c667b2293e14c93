# edgerl — make build. meson.build builds the same targets from the same lists:
#   src/sources.txt (libedgerl.a), src/cli/sources.txt (the command line, libedgerl_cli.a),
#   tests/sources.txt, bench/sources.txt, and build-flags.txt (flags).
#
#   make            build/edgerl (optimised for this CPU; PORTABLE=1 for any CPU of the arch)
#   make run        install missing Debian packages, build, train the default config
#   make test       build and run every test (unit tests, CLI and resume scripts, fuzz smoke)
#   make sanitize   unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (see docs/benchmarks.md)
#   make fuzz       run the checkpoint-reader fuzzer (FUZZ_SECONDS, default 60)
#   make deps       install missing Debian packages (apt-get, only when missing)

CXX ?= g++
BUILD ?= build
PORTABLE ?= 0
# Builds inside test, sanitize and same-bits use every core (the tests themselves run in order).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

ifeq ($(PORTABLE),1)
  ARCH_FLAGS :=
else
  ARCH_FLAGS := -march=native
endif

BASE_FLAGS := $(shell cat build-flags.txt)
VERSION := $(shell cat VERSION)
CPPFLAGS += -Iinclude -Isrc -I$(BUILD)/gen -D_FILE_OFFSET_BITS=64 -DEDGERL_VERSION=\"$(VERSION)\"
# CXXFLAGS and LDFLAGS from the command line come last (make sanitize uses them).
ALL_CXXFLAGS = $(BASE_FLAGS) $(ARCH_FLAGS) $(CXXFLAGS)
LDLIBS += -linih -lz -pthread

LIB_SRCS := $(shell cat src/sources.txt)
CLI_SRCS := $(shell cat src/cli/sources.txt)
TEST_SRCS := $(shell cat tests/sources.txt)
BENCH_SRCS := $(shell cat bench/sources.txt)
CONFIGS := $(sort $(wildcard configs/*.ini))

LIB_OBJS := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.cpp=$(BUILD)/obj/%.o)
TEST_OBJS := $(TEST_SRCS:%.cpp=$(BUILD)/obj/%.o)
BENCH_OBJS := $(BENCH_SRCS:%.cpp=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/src/cli/main.o
GEN := $(BUILD)/gen/builtin_configs.inc

DEB_PACKAGES := g++ make pkg-config libxtensor-dev libinih-dev zlib1g-dev doctest-dev \
                meson ninja-build clang-14 libclang-rt-14-dev python3-numpy

.PHONY: all run test unit-test script-test fuzz-smoke same-bits sanitize bench fuzz deps clean format check-format install install-test
.DELETE_ON_ERROR:

all: $(BUILD)/edgerl

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "make deps: apt-get failed to install:$$missing" >&2; exit 1; }; \
	fi

run: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	$(BUILD)/edgerl train

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/edgerl $(BUILD)/edgerl_tests
	@$(MAKE) --no-print-directory unit-test script-test fuzz-smoke same-bits install-test

unit-test: $(BUILD)/edgerl_tests
	$(BUILD)/edgerl_tests

script-test: $(BUILD)/edgerl
	@tests/run_scripts.sh $(BUILD)/edgerl

# A portable build (no -march=native) must train to the same bits as this one.
same-bits: $(BUILD)/edgerl
	@$(MAKE) --no-print-directory -j$(JOBS) PORTABLE=1 BUILD=build-portable build-portable/edgerl
	tests/same_bits.sh $(BUILD)/edgerl build-portable/edgerl

# The checkpoint reader under libFuzzer + ASan + UBSan: bounded in make test, longer in make fuzz.
FUZZ_SECONDS ?= 60
fuzz-smoke:
	@tests/fuzz/run.sh 20

fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

sanitize: deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build-san PORTABLE=1 \
	  CXXFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" build-san/edgerl_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-san/edgerl_tests

bench: $(BUILD)/edgerl_bench $(BUILD)/edgerl
	$(BUILD)/edgerl_bench
	bench/solve.sh $(BUILD)/edgerl

$(BUILD)/edgerl: $(MAIN_OBJ) $(BUILD)/libedgerl_cli.a $(BUILD)/libedgerl.a
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The unit tests also drive sub-commands through cli::run (libedgerl_cli.a).
$(BUILD)/edgerl_tests: $(TEST_OBJS) $(BUILD)/libedgerl_cli.a $(BUILD)/libedgerl.a
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/edgerl_bench: $(BENCH_OBJS) $(BUILD)/libedgerl.a
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libedgerl.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libedgerl_cli.a: $(CLI_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(GEN): $(CONFIGS) tools/embed_configs.sh
	@mkdir -p $(dir $@)
	tools/embed_configs.sh $@ $(CONFIGS)

$(BUILD)/obj/%.o: %.cpp $(BUILD)/flags.stamp | $(GEN)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(ALL_CXXFLAGS) -MMD -MP -c -o $@ $<

# Rebuild everything when the flags change (e.g. PORTABLE=1 after a native build).
$(BUILD)/flags.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CXX) $(CPPFLAGS) $(ALL_CXXFLAGS) $(LDFLAGS)' > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

FORCE:

# The C++ library for programs on a Linux board: libedgerl.a, the public headers, edgerl.pc
# (pkg-config) and the binary, under $(DESTDIR)$(PREFIX).
PREFIX ?= /usr/local
install: $(BUILD)/libedgerl.a $(BUILD)/edgerl
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/edgerl $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libedgerl.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/edgerl/*.hpp $(DESTDIR)$(PREFIX)/include/edgerl/
	install -m 755 $(BUILD)/edgerl $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tools/edgerl.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/edgerl.pc

# examples/run_policy.cpp built through pkg-config against an installed tree, and run.
install-test: $(BUILD)/libedgerl.a $(BUILD)/edgerl
	@rm -rf $(BUILD)/stage
	@$(MAKE) --no-print-directory install PREFIX=$(abspath $(BUILD)/stage) > /dev/null
	tests/install_example.sh $(abspath $(BUILD)/stage) $(CXX)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

check-format:
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) build-san build-fuzz build-portable

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(BENCH_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)

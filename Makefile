# edgerl — make build. meson.build builds the same targets from the same lists:
#   src/sources.txt (libedgerl.a), src/cli/sources.txt (the command line, libedgerl_cli.a),
#   tests/sources.txt, bench/sources.txt, and build-flags.txt (flags).
#
#   make            build/edgerl (optimised for this CPU; PORTABLE=1 for any CPU of the arch)
#   make run        install missing Debian packages, build, train the default config
#   make test       build and run every test (unit tests, CLI and resume scripts, fuzz smoke)
#   make sanitize   unit tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench      benchmarks (see docs/benchmarks.md)
#   make FMA=1      build-fma/edgerl with fused multiply-adds (faster, other bits); make test-fma
#   make fuzz       run the checkpoint-reader, config and logs fuzzers (FUZZ_SECONDS each, default 60)
#   make deps       install missing Debian packages (apt-get, only when missing)
#   make static     build/edgerl-static; make cross ARCH=aarch64|armhf|riscv64 (docs/edge.md)

CXX ?= g++
# FMA=1: fused multiply-adds in the network, optimiser and learner code (src/fma-sources.txt),
# for about 10-25% more speed and other bits than the default build's (docs/benchmarks.md);
# the environments and detmath stay exact. It builds in build-fma/.
FMA ?= 0
ifeq ($(FMA),1)
  BUILD ?= build-fma
endif
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
# override: a CPPFLAGS=... on the command line (a cross prefix's -I) adds to these.
override CPPFLAGS += -Iinclude -Isrc -I$(BUILD)/gen -D_FILE_OFFSET_BITS=64 -DEDGERL_VERSION=\"$(VERSION)\"
# CXXFLAGS and LDFLAGS from the command line come last (make sanitize uses them).
ALL_CXXFLAGS = $(BASE_FLAGS) $(ARCH_FLAGS) $(CXXFLAGS)
override LDLIBS += -linih -lz -pthread

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

# SIZE=1 (make static, make cross): the kernels whose speed depends on -O3 (src/hot-sources.txt:
# the MLP, Adam, the policy heads) keep the full optimisation, everything else is built for
# size (-Os), and unused functions are dropped at link time. Same bits as the default build
# (-Os changes no floating-point rule here: -ffp-contract=off, no fast-math); make static-test
# checks it.
SIZE ?= 0
ifeq ($(SIZE),1)
  SIZE_FLAGS := -ffunction-sections -fdata-sections
  SIZE_LDFLAGS := -Wl,--gc-sections
  HOT_SRCS := $(shell cat src/hot-sources.txt)
  COLD_OBJS := $(patsubst %.cpp,$(BUILD)/obj/%.o,$(filter-out $(HOT_SRCS),$(LIB_SRCS) $(CLI_SRCS) src/cli/main.cpp src/cli/terminate_small.cpp src/cli/glibc_small.cpp))
  $(COLD_OBJS): OBJ_FLAGS := -Os
endif

ifeq ($(FMA),1)
  FMA_SRCS := $(shell cat src/fma-sources.txt)
  override CPPFLAGS += -DEDGERL_FMA=1
  $(FMA_SRCS:%.cpp=$(BUILD)/obj/%.o): FMA_FLAGS := -ffp-contract=fast $(if $(findstring x86_64,$(shell $(CXX) -dumpmachine)),-mfma)
endif

DEB_PACKAGES := g++ make pkg-config libxtensor-dev libinih-dev zlib1g-dev doctest-dev \
                meson ninja-build clang-14 libclang-rt-14-dev python3-numpy

.PHONY: all run test unit-test script-test fuzz-smoke same-bits sanitize bench fuzz deps clean format check-format install install-test static static-test cross test-cross cross-smoke deps-cross deps-build test-fma
.DELETE_ON_ERROR:

all: $(BUILD)/edgerl

# make deps: what building needs (deps-build, all make run installs) and what make test's
# optional checks use where they can run: aarch64 and armhf cross toolchains with qemu-user
# (on x86-64) and Slurm with MUNGE. A tool that cannot be installed is one line; the check
# that needs it then says "skipped".
deps: deps-build
	@if [ "$$(uname -m)" = x86_64 ]; then \
	  $(MAKE) --no-print-directory deps-cross ARCH=aarch64 || echo "make deps: no aarch64 cross toolchain (make test skips its check)"; \
	  $(MAKE) --no-print-directory deps-cross ARCH=armhf || echo "make deps: no armhf cross toolchain (make test skips its check)"; \
	fi
	@tests/slurm/slurm_deps.sh 2>/dev/null || echo "make deps: Slurm and MUNGE not installed (make test skips the Slurm sweep)"

deps-build:
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

run: deps-build
	@$(MAKE) --no-print-directory -j$(JOBS) all
	$(BUILD)/edgerl train

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/edgerl $(BUILD)/edgerl_tests
	@$(MAKE) --no-print-directory unit-test script-test fuzz-smoke same-bits install-test static-test cross-smoke

unit-test: $(BUILD)/edgerl_tests
	$(BUILD)/edgerl_tests

script-test: $(BUILD)/edgerl
	@tests/run_scripts.sh $(BUILD)/edgerl

# A portable build (no -march=native) must train to the same bits as this one, and one thread
# (arch.num_threads=1) to the same bits as two.
# The portable build is made with clang (make static-test covers GCC's portable code), so the
# same bits are checked across compilers too.
same-bits: $(BUILD)/edgerl
	@$(MAKE) --no-print-directory -j$(JOBS) PORTABLE=1 CXX=clang++-14 BUILD=build-portable build-portable/edgerl
	SAME_BITS_A=arch.num_threads=1 SAME_BITS_B=arch.num_threads=2 tests/same_bits.sh $(BUILD)/edgerl build-portable/edgerl
	@# glibc picks its libm code by CPU (FMA or not); none of it may reach the training bits.
	@printf '#!/bin/sh\nGLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA exec %s "$$@"\n' $(abspath $(BUILD)/edgerl) > $(BUILD)/edgerl-nofma
	@chmod +x $(BUILD)/edgerl-nofma
	SAME_BITS_A=arch.num_threads=2 SAME_BITS_B=arch.num_threads=1 tests/same_bits.sh $(BUILD)/edgerl $(BUILD)/edgerl-nofma

# The FMA=1 build trains to its own pinned bits (tests/fma_hashes.txt), with 1 and 2 threads.
test-fma:
	@$(MAKE) --no-print-directory -j$(JOBS) FMA=1 BUILD=build-fma build-fma/edgerl
	tests/fma_bits.sh build-fma/edgerl

# The checkpoint reader, the config loader and the logs' resume under libFuzzer + ASan +
# UBSan: 15 s each in make test, longer in make fuzz.
FUZZ_SECONDS ?= 60
fuzz-smoke:
	@tests/fuzz/run.sh 15

fuzz: deps-build
	tests/fuzz/run.sh $(FUZZ_SECONDS)

sanitize: deps-build
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build-san PORTABLE=1 \
	  CXXFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" build-san/edgerl_tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-san/edgerl_tests

bench: $(BUILD)/edgerl_bench $(BUILD)/edgerl
	$(BUILD)/edgerl_bench
	bench/solve.sh $(BUILD)/edgerl
	@if [ -x $(BUILD)/edgerl-static ]; then bench/edge.sh $(BUILD)/edgerl $(BUILD)/edgerl-static; else bench/edge.sh $(BUILD)/edgerl; fi

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
	$(CXX) $(CPPFLAGS) $(ALL_CXXFLAGS) $(SIZE_FLAGS) $(OBJ_FLAGS) $(FMA_FLAGS) -MMD -MP -c -o $@ $<

# Rebuild everything when the flags change (e.g. PORTABLE=1 after a native build).
$(BUILD)/flags.stamp: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CXX) $(CPPFLAGS) $(ALL_CXXFLAGS) $(LDFLAGS) SIZE=$(SIZE) $(HOT_SRCS) FMA=$(FMA) $(FMA_SRCS)' > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

FORCE:

# ---- Static and cross builds (Debian's cross toolchains; tests under qemu-user) -------------
#   make static                 $(BUILD)/edgerl-static: static, stripped, built small (SIZE=1)
#   make cross ARCH=aarch64|armhf|riscv64   build-ARCH/edgerl-static (and build-ARCH/edgerl-qemu,
#                               a wrapper that runs it under qemu-user)
#   make test-cross ARCH=...    every unit test under qemu (QUICK=1: the portability-sensitive
#                               ones), then same_bits.sh between this machine's build and qemu's
#   make deps-cross ARCH=...    its Debian packages (dpkg --add-architecture; make deps does
#                               aarch64 and armhf on x86-64)
# riscv64: Debian 12 has no riscv64 archive, so inih and zlib come from RISCV64_PREFIX, built
# from their sources by tools/build_riscv64_deps.sh; its toolchain and qemu are Debian's.
CROSS_TRIPLE_aarch64 := aarch64-linux-gnu
CROSS_TRIPLE_armhf := arm-linux-gnueabihf
CROSS_TRIPLE_riscv64 := riscv64-linux-gnu
CROSS_QEMU_aarch64 := qemu-aarch64-static
CROSS_QEMU_armhf := qemu-arm-static
CROSS_QEMU_riscv64 := qemu-riscv64-static
CROSS_DEBARCH_aarch64 := arm64
CROSS_DEBARCH_armhf := armhf
RISCV64_PREFIX ?= /opt/riscv64
CROSS_EXTRA_riscv64 := CPPFLAGS=-I$(RISCV64_PREFIX)/include LDFLAGS="-static -L$(RISCV64_PREFIX)/lib"
CROSS_TRIPLE := $(CROSS_TRIPLE_$(ARCH))
CROSS_BUILD := build-$(ARCH)
CROSS_MAKE = $(MAKE) --no-print-directory -j$(JOBS) CXX=$(CROSS_TRIPLE)-g++ PORTABLE=1 SIZE=1 \
  BUILD=$(CROSS_BUILD) LDFLAGS=-static $(CROSS_EXTRA_$(ARCH))
# The portability-sensitive unit tests (numbers, files, formats), quick enough for qemu.
CROSS_QUICK_TESTS := rng*,*detmath*,envs*,*Mlp*,*mlp*,*distribution*,*head*,ckpt format*,ckpt io*,*config*,*integers*,UTC*,parts:*,*tfevents*,*CRC*

static: deps-build
	@$(MAKE) --no-print-directory -j$(JOBS) PORTABLE=1 SIZE=1 BUILD=build-static build-static/edgerl-static
	@mkdir -p $(BUILD) && cp build-static/edgerl-static $(BUILD)/edgerl-static
	@ls -l $(BUILD)/edgerl-static | awk '{print "make static: $(BUILD)/edgerl-static, " $$5 " bytes"}'

# The small static binary: stripped, unused sections dropped, the small terminate handler and
# glibc entry points without the code edgerl never runs (src/cli/glibc_small.cpp).
$(BUILD)/edgerl-static: $(MAIN_OBJ) $(BUILD)/obj/src/cli/terminate_small.o $(BUILD)/obj/src/cli/glibc_small.o $(BUILD)/libedgerl_cli.a $(BUILD)/libedgerl.a
	$(CXX) $(ALL_CXXFLAGS) $(LDFLAGS) -static -s $(SIZE_LDFLAGS) -o $@ $^ $(LDLIBS)

# The static binary fits issue #13's size budget and trains to the same bits as this
# machine's build.
static-test: static $(BUILD)/edgerl
	tests/size_budget.sh $(BUILD)/edgerl-static
	tests/same_bits.sh $(BUILD)/edgerl $(BUILD)/edgerl-static

cross:
	@test -n "$(CROSS_TRIPLE)" || { echo "make cross: ARCH=aarch64, armhf or riscv64" >&2; exit 2; }
	@$(CROSS_MAKE) $(CROSS_BUILD)/edgerl-static
	@printf '#!/bin/sh\nexec %s %s "$$@"\n' $(CROSS_QEMU_$(ARCH)) $(abspath $(CROSS_BUILD))/edgerl-static \
	  > $(CROSS_BUILD)/edgerl-qemu && chmod +x $(CROSS_BUILD)/edgerl-qemu
	@ls -l $(CROSS_BUILD)/edgerl-static | awk '{print "make cross: $(CROSS_BUILD)/edgerl-static, " $$5 " bytes"}'

test-cross: cross $(BUILD)/edgerl
	@$(CROSS_MAKE) $(CROSS_BUILD)/edgerl_tests
	$(CROSS_QEMU_$(ARCH)) $(CROSS_BUILD)/edgerl_tests $(if $(QUICK),--test-case="$(CROSS_QUICK_TESTS)")
	tests/same_bits.sh $(BUILD)/edgerl $(CROSS_BUILD)/edgerl-qemu

# In make test: aarch64 and armhf when their toolchains and qemu are here: the static cross
# binary trains short runs to this machine's bits and resumes its checkpoints.
cross-smoke: $(BUILD)/edgerl
	@tests/cross_smoke.sh $(BUILD)/edgerl

deps-cross:
	@test -n "$(CROSS_TRIPLE)" || { echo "make deps-cross: ARCH=aarch64, armhf or riscv64" >&2; exit 2; }
	@if [ -n "$(CROSS_DEBARCH_$(ARCH))" ] && ! dpkg --print-foreign-architectures | grep -qx $(CROSS_DEBARCH_$(ARCH)); then \
	  dpkg --add-architecture $(CROSS_DEBARCH_$(ARCH)) && apt-get update -qq; fi
	@$(MAKE) --no-print-directory deps-build DEB_PACKAGES="g++-$(CROSS_TRIPLE) qemu-user-static doctest-dev \
	  $(if $(CROSS_DEBARCH_$(ARCH)),libinih-dev:$(CROSS_DEBARCH_$(ARCH)) zlib1g-dev:$(CROSS_DEBARCH_$(ARCH)))"

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

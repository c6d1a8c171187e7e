# The two commands: `make run` and `make test`. Everything else is a step of those.
JOBS ?= 2
CMAKE_FLAGS ?=
ORIGINS ?= http://localhost:*,http://127.0.0.1:*
# The recommended counting profile (README, "How counting works"); the binary's bare
# defaults are the classic ones (every request a view). Each is an environment variable
# of the same name, so `make run VC_COUNT_UNIT=views` overrides one.
VC_COUNT_UNIT ?= visitors
VC_IGNORE_BOTS ?= true
VC_REPEAT_WINDOW ?= 10
VC_RATE_LIMIT ?= 5/s,burst=20
VC_MAX_COUNTERS ?= 10000

.PHONY: all deps build run fleet-demo package package-x86_64 package-arm64 amd64-machine dist deb image image-arm64 test test-asan test-fresh fuzz format-check bench soak clean

all: build

deps:
	@scripts/install-deps build

build: deps
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build build/release -j$(JOBS)

run: build
	VC_ALLOW_ORIGINS='$(ORIGINS)' VC_COUNT_UNIT='$(VC_COUNT_UNIT)' VC_IGNORE_BOTS='$(VC_IGNORE_BOTS)' \
	  VC_REPEAT_WINDOW='$(VC_REPEAT_WINDOW)' VC_RATE_LIMIT='$(VC_RATE_LIMIT)' \
	  VC_MAX_COUNTERS='$(VC_MAX_COUNTERS)' \
	  build/release/visitor-counter serve

# Two servers and one Redis on 127.0.0.1 (scripts/fleet-demo); prints both URLs.
fleet-demo: build
	@scripts/install-deps fleet
	scripts/fleet-demo

# The Lambda bootstraps, each one fully static executable zipped as `bootstrap`:
# dist/visitor-counter-lambda.zip for x86_64 (built natively, the lambda preset) and
# dist/visitor-counter-lambda-arm64.zip for arm64 (cross-compiled with Debian's
# g++-aarch64-linux-gnu, the lambda-arm64 preset). ARCH=x86_64 or ARCH=arm64 builds one.
ARCH ?= x86_64 arm64
package: $(addprefix package-,$(ARCH))

amd64-machine: deps
	@[ "$$(uname -m)" = x86_64 ] || { echo "make package: needs an x86-64 (amd64) machine: the x86_64 bootstrap is built natively and the arm64 one with Debian's amd64 cross compiler; this machine is $$(uname -m)" >&2; exit 1; }

package-x86_64: amd64-machine
	cmake --preset lambda $(CMAKE_FLAGS) >/dev/null
	cmake --build build/lambda -j$(JOBS)
	deploy/package.sh build/lambda/visitor-counter dist/visitor-counter-lambda.zip

package-arm64: amd64-machine
	@scripts/install-deps arm64
	cmake --preset lambda-arm64 $(CMAKE_FLAGS) >/dev/null
	cmake --build build/lambda-arm64 -j$(JOBS)
	deploy/package.sh build/lambda-arm64/visitor-counter dist/visitor-counter-lambda-arm64.zip

# The self-hosting release: one fully static binary (Redis included), packed as
# dist/visitor-counter-VERSION-linux-ARCH.tar.gz (deploy/make-tarball) ...
dist: deps
	cmake --preset dist $(CMAKE_FLAGS) >/dev/null
	cmake --build build/dist -j$(JOBS)
	deploy/make-tarball build/dist/visitor-counter dist

# ... and as dist/visitor-counter_VERSION_ARCH.deb (deploy/debian/build-deb): the binary, the
# hardened systemd unit, /etc/default/visitor-counter. `apt-get install ./dist/visitor-counter_*.deb`.
deb: dist
	@scripts/install-deps deb
	deploy/debian/build-deb build/dist/visitor-counter dist

# The container image (deploy/container, docs/container.md): the static binary of `package`
# FROM scratch, built with podman into its usual storage (podman run finds it there) and
# tagged visitor-counter:VERSION and visitor-counter:latest. Unlike `package` it does not
# insist on x86-64: the image gets the build machine's architecture.
image:
	@scripts/install-deps image
	cmake --preset lambda $(CMAKE_FLAGS) >/dev/null
	cmake --build build/lambda -j$(JOBS)
	deploy/container/build-image build/lambda/visitor-counter \
	  visitor-counter:$$(build/lambda/visitor-counter --version | cut -d' ' -f2) visitor-counter:latest

# The linux/arm64 image from the arm64 bootstrap, tagged visitor-counter:VERSION-arm64 and
# visitor-counter:latest-arm64. Building needs no emulation (FROM scratch, no RUN); the
# version is read through qemu-aarch64-static.
image-arm64: package-arm64
	@scripts/install-deps image
	deploy/container/build-image build/lambda-arm64/visitor-counter \
	  visitor-counter:$$(qemu-aarch64-static build/lambda-arm64/visitor-counter --version | cut -d' ' -f2)-arm64 \
	  visitor-counter:latest-arm64

test: package
	@scripts/install-deps test
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build build/release -j$(JOBS)
	VC_LAMBDA_ZIP=$(CURDIR)/dist/visitor-counter-lambda.zip \
	  ctest --test-dir build/release --output-on-failure -j$(JOBS)

# The x86_64 zip only: the arm64 tests (label arm64) run the cross-built bootstrap, which has
# no sanitizer: `make test` runs them, here they would only repeat it.
test-asan: package-x86_64
	@scripts/install-deps test
	cmake --preset asan $(CMAKE_FLAGS) >/dev/null
	cmake --build build/asan -j$(JOBS)
	VC_LAMBDA_ZIP=$(CURDIR)/dist/visitor-counter-lambda.zip \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build/asan --output-on-failure -j$(JOBS) -LE arm64

# The two commands on fresh minimal Debian roots (debootstrap): RELEASES=bookworm or trixie for one.
RELEASES ?= bookworm trixie
test-fresh:
	@scripts/install-deps fresh
	@for release in $(RELEASES); do scripts/test-fresh $$release || exit 1; done

# libFuzzer: builds tests/fuzz (clang 19, ASan + UBSan) and runs each target FUZZ_SECONDS on
# its seeds in tests/fuzz/corpus/NAME/; inputs found go to a temporary folder, crashing ones
# to build/fuzz/fuzz-artifacts/NAME/. One line per target: executions, or the crash.
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/install-deps fuzz
	cmake --preset fuzz $(CMAKE_FLAGS) >/dev/null
	cmake --build build/fuzz -j$(JOBS) --target fuzz_targets
	@ls tests/fuzz/corpus | xargs -P$(JOBS) -I{} \
	  tests/fuzz/run-fuzz build/fuzz/tests/fuzz/{}_fuzz $(FUZZ_SECONDS) build/fuzz/fuzz-artifacts

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp')

bench: build package
	@scripts/install-deps bench
	bench/durable_bench.py
	bench/http_bench.py
	bench/idle_bench.py
	bench/lambda_bench.py
	bench/redis_bench.py
	bench/stream_bench.py

# A few million durable hits with the server's RSS sampled (bench/soak.py; SOAK_SECONDS).
SOAK_SECONDS ?= 120
soak: build
	@scripts/install-deps bench
	bench/soak.py --duration $(SOAK_SECONDS)

clean:
	rm -rf build dist

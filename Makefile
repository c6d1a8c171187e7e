# The two commands: `make run` and `make test`. Everything else is a step of those.
JOBS ?= 2
CMAKE_FLAGS ?=
ORIGINS ?= http://localhost:*,http://127.0.0.1:*

.PHONY: all deps build run package test test-asan format-check bench clean

all: build

deps:
	@scripts/install-deps build

build: deps
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build build/release -j$(JOBS)

run: build
	VC_ALLOW_ORIGINS='$(ORIGINS)' build/release/visitor-counter serve

# The Lambda bootstrap: one fully static executable, zipped as `bootstrap`.
package: deps
	cmake --preset lambda $(CMAKE_FLAGS) >/dev/null
	cmake --build build/lambda -j$(JOBS)
	deploy/package.sh build/lambda/visitor-counter dist/visitor-counter-lambda.zip

test: package
	@scripts/install-deps test
	cmake --preset release $(CMAKE_FLAGS) >/dev/null
	cmake --build build/release -j$(JOBS)
	VC_LAMBDA_ZIP=$(CURDIR)/dist/visitor-counter-lambda.zip \
	  ctest --test-dir build/release --output-on-failure -j$(JOBS)

test-asan: package
	@scripts/install-deps test
	cmake --preset asan $(CMAKE_FLAGS) >/dev/null
	cmake --build build/asan -j$(JOBS)
	VC_LAMBDA_ZIP=$(CURDIR)/dist/visitor-counter-lambda.zip \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build/asan --output-on-failure -j$(JOBS)

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp')

bench: build package
	@scripts/install-deps bench
	bench/http_bench.py
	bench/lambda_bench.py

clean:
	rm -rf build dist

#!/bin/sh
# test.sh: install what is missing, build, and run every test. This is the README's test
# command and what CI runs (.ci/run).
#
#   1. a Debug build with AddressSanitizer + UndefinedBehaviorSanitizer (build/asan): every
#      unit test and every black-box test against the real Kafka broker, so leaks and memory
#      errors in the real binaries fail the run;
#   2. an optimised build (build/release) without sanitizers, whose warnings differ, with the
#      unit tests once more under valgrind.
# Among the tests of 1, compose.deployment builds the container images and runs
# docker/docker-compose.yml (tests/compose/test_compose.sh) when Docker or podman works here;
# scripts/install-container-deps.sh installs podman where neither does. When no engine works,
# that test is skipped, and this script says so, loudly, before the tests and at the end.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '\n==> %s\n' "$*"; }

say "dependencies"
"$root/scripts/install-deps.sh"

say "Kafka broker jars"
"$root/tests/kafka/kafka.sh" fetch

say "container engine (the compose test)"
compose_skip=
if ! "$root/scripts/install-container-deps.sh"; then
    compose_skip="scripts/install-container-deps.sh failed (above)"
elif ! why=$("$root/scripts/container-images.sh" --engine 2>&1 >/dev/null); then
    compose_skip=${why#container-images.sh: ERROR: }
fi
# loud WILL_BE|WAS
loud() {
    printf '\n********************************************************************************\n'
    printf '*** compose.deployment %s SKIPPED: the container images are not built and\n' "$1"
    printf '*** docker/docker-compose.yml is not run, because: %s\n' "$compose_skip"
    printf '********************************************************************************\n\n'
}
if [ -n "$compose_skip" ]; then loud 'WILL BE'; else echo "container engine: $("$root/scripts/container-images.sh" --engine)"; fi

say "build: Debug + ASan + UBSan (build/asan)"
cmake -S "$root" -B "$root/build/asan" -DCMAKE_BUILD_TYPE=Debug -DARB_ASAN=ON -DARB_UBSAN=ON >/dev/null
cmake --build "$root/build/asan" -j "$jobs"

say "build: release (build/release)"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARB_VALGRIND_TESTS=ON >/dev/null
cmake --build "$root/build/release" -j "$jobs"

say "tests (sanitized build, real Kafka)"
# Sanitizer reports fail the process: a leak or a bad access is a failed test.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=23}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
(cd "$root/build/asan" && ctest --output-on-failure --timeout 600)

say "unit tests under valgrind (release build)"
(cd "$root/build/release" && ctest -L valgrind --output-on-failure)
if [ -n "$compose_skip" ]; then
    loud WAS
    say "all tests passed, but compose.deployment was SKIPPED (above)"
else
    say "all tests passed"
fi

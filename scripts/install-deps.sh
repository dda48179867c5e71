#!/bin/sh
# install-deps.sh: install what building, testing and benchmarking airudder-bridge needs, on
# Debian 12 (or a Debian-like system with apt). Idempotent: it asks dpkg what is installed and
# runs apt-get (update, then install) only for the packages that are missing, so on a machine
# that has everything it changes nothing and needs no network. Uses sudo unless run as root.
set -eu

# Build: compiler, cmake, pkg-config and the libraries' headers.
# Tests: cmocka (unit), kcat + jq + curl (black-box), Java + Maven (the real Kafka broker,
# tests/kafka/kafka.sh), valgrind, shellcheck, promtool (from prometheus: checks /metrics),
# docker-compose + python3-yaml (test_docker.sh validates docker/ offline: Compose 1.29 needs
# no container engine for `config`).
# Coverage: gcovr (the coverage target of an ARB_COVERAGE build).
# Fuzzing: clang-14 and its runtimes (libFuzzer, ASan, UBSan) for the ARB_FUZZ build.
# Bench: wrk.
packages='build-essential cmake pkg-config clang-14 libclang-rt-14-dev
librdkafka-dev libmicrohttpd-dev libjansson-dev libssl-dev libconfig-dev libcurl4-openssl-dev
libsimdjson-dev
libcmocka-dev kcat jq curl valgrind wrk openjdk-17-jre-headless maven shellcheck prometheus
docker-compose python3-yaml gcovr'

say() { printf 'install-deps.sh: %s\n' "$*" >&2; }
die() {
    printf 'install-deps.sh: ERROR: %s\n' "$*" >&2
    exit 1
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script needs Debian or Ubuntu"

# Print the packages of the list that are not installed.
missing_packages() {
    for package in $packages; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
        [ "$status" = installed ] || printf '%s ' "$package"
    done
}

missing=$(missing_packages)
missing=${missing% }
if [ -z "$missing" ]; then
    say "all $(printf '%s\n' "$packages" | wc -w) packages are installed"
    exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo; install as root: $missing"
    sudo=sudo
fi

say "installing: $missing"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq update ||
    die "apt-get update failed"
# shellcheck disable=SC2086 # one argument per package
$sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o Dpkg::Use-Pty=0 \
    --no-install-recommends install $missing >/dev/null ||
    die "apt-get install failed for: $missing"

still=$(missing_packages)
still=${still% }
[ -z "$still" ] || die "still missing after apt-get install: $still"
say "installed: $missing"

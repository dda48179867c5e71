#!/bin/sh
# install-container-deps.sh: what the container test (tests/compose/test_compose.sh) needs when
# the machine has no working Docker engine: Debian 12's podman with runc, netavark and
# aardvark-dns (a compose network whose services find each other by name), iptables (netavark
# 1.4 sets up every bridged network with it, and podman only suggests it: without it, each
# `podman run` fails "netavark: No such file or directory"), podman-compose,
# and debootstrap (scripts/container-images.sh makes the Debian base images with it when no
# registry can be reached). Test infrastructure only: running the product needs none of it.
#
#   scripts/install-container-deps.sh          install what is missing, write the podman setting
#   scripts/install-container-deps.sh --check  change nothing; exit 0 when all is in place
#
# Idempotent like scripts/install-deps.sh: apt-get runs only for missing packages, and the
# podman setting below is written only when it differs. Does nothing when `docker info`
# answers (a Docker engine serves the test instead). Uses sudo unless run as root.
#
# The podman setting, /etc/containers/containers.conf.d/50-airudder-test.conf, is what the
# sandboxed machines this project's CI runs on need (a drop-in, so a containers.conf of the
# machine's own is left as it is):
#   - default_ulimits = []: podman's default raises RLIMIT_NOFILE/NPROC in each container,
#     which the sandbox forbids (the container would not start);
#   - runtime = "runc": crun fails on the sandbox's cgroup layout, runc works;
#   - network_backend = "netavark": its aardvark-dns resolves service names on a compose
#     network (the CNI backend would need a dnsname plugin).
set -eu

packages='podman runc netavark aardvark-dns iptables podman-compose debootstrap'
dropin=/etc/containers/containers.conf.d/50-airudder-test.conf
check=false
case ${1:-} in
'') ;;
--check) check=true ;;
*) echo "usage: scripts/install-container-deps.sh [--check]" >&2; exit 2 ;;
esac

say() { printf 'install-container-deps.sh: %s\n' "$*" >&2; }
die() {
    printf 'install-container-deps.sh: ERROR: %s\n' "$*" >&2
    exit 1
}

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    say "a Docker engine answers: nothing to install"
    exit 0
fi
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script needs Debian or Ubuntu"

missing_packages() {
    for package in $packages; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
        [ "$status" = installed ] || printf '%s ' "$package"
    done
}

dropin_text() {
    cat <<'EOF'
# Written by airudder-bridge's scripts/install-container-deps.sh for its container test;
# rewritten when it differs, removable when that test is not run here.
[containers]
# The sandbox forbids raising rlimits: keep the container's as they are.
default_ulimits = []

[engine]
# crun fails on the sandbox's cgroup layout; runc works.
runtime = "runc"

[network]
# aardvark-dns: services on a compose network resolve each other by name.
network_backend = "netavark"
EOF
}

missing=$(missing_packages)
missing=${missing% }
dropin_ok=false
if [ -f "$dropin" ] && [ "$(cat "$dropin")" = "$(dropin_text)" ]; then dropin_ok=true; fi

if $check; then
    [ -z "$missing" ] || die "missing packages: $missing"
    $dropin_ok || die "$dropin is missing or differs"
    say "all $(printf '%s\n' "$packages" | wc -w) packages are installed, $dropin in place"
    exit 0
fi

sudo=
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo; as root: apt-get install $packages"
    sudo=sudo
fi

if [ -n "$missing" ]; then
    say "installing: $missing"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq update || die "apt-get update failed"
    # shellcheck disable=SC2086 # one argument per package
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o Dpkg::Use-Pty=0 \
        --no-install-recommends install $missing >/dev/null ||
        die "apt-get install failed for: $missing"
    still=$(missing_packages)
    still=${still% }
    [ -z "$still" ] || die "still missing after apt-get install: $still"
    say "installed: $missing"
else
    say "all $(printf '%s\n' "$packages" | wc -w) packages are installed"
fi

if ! $dropin_ok; then
    $sudo mkdir -p "$(dirname "$dropin")"
    dropin_text | $sudo tee "$dropin.tmp" >/dev/null
    $sudo mv "$dropin.tmp" "$dropin"
    say "wrote $dropin"
fi

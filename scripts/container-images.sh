#!/bin/sh
# container-images.sh: build the image of docker/Dockerfile (airudder-bridge:local), with
# Docker where a Docker engine answers and with podman where there is none; the same build
# either way. When the Dockerfile's base images (debian:bookworm, debian:bookworm-slim) are
# not in the engine's store and no registry can be reached, this script makes them: a minimal
# Debian 12 from Debian's packages (debootstrap), imported under those names. The Dockerfile
# stays the one a Docker user builds on a laptop.
#
#   scripts/container-images.sh                 base images if missing, then airudder-bridge:local
#   scripts/container-images.sh --test-kafka    also the tests' Kafka image (below)
#   scripts/container-images.sh --base-only     only the base images
#   scripts/container-images.sh --engine        print the engine it would use (docker|podman)
#
# Environment: ARB_CONTAINER_ENGINE=docker|podman forces the engine; ARB_IMAGE_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/airudder-bridge/images) keeps the base images' root file
# systems as tarballs, so a machine debootstraps once even when the engine's store is wiped.
#
# The base images. Made only when the engine has none of that name: where a registry answers,
# `docker pull debian:bookworm` first is the usual way, and then this script uses that image.
# The made ones are `debootstrap --variant=minbase bookworm` (what the official images are
# made of), with the apt sources and Acquire settings of this machine (so `apt-get` in the
# build reaches Debian's packages as this machine does), no apt lists, no .debs; -slim also
# leaves out documentation, man pages and locales as the official slim image does. Each is
# labelled org.opencontainers.image.description "made by scripts/container-images.sh".
# Remove them (`podman rmi debian:bookworm debian:bookworm-slim`) to use the official ones.
#
# The builds run with --network host: the build's RUN apt-get reaches the network as the host
# does (on a machine whose containers have no network of their own, the only way it can).
#
# --test-kafka: localhost/airudder-test-kafka:VERSION, a stand-in for the official
# apache/kafka:VERSION image (which the compose file names, and which cannot be pulled where
# no registry answers), made from the Maven jars of the test harness (tests/kafka/kafka.sh
# fetch) and tests/compose/kafka/. For tests only: tests/compose/docker-compose.test.yml
# puts it in the compose file's place.
set -eu

root=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
image=airudder-bridge:local
cache=${ARB_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/airudder-bridge/images}

say() { printf 'container-images.sh: %s\n' "$*" >&2; }
die() {
    printf 'container-images.sh: ERROR: %s\n' "$*" >&2
    exit 1
}

mode=all
case ${1:-} in
'') ;;
--test-kafka) mode=kafka ;;
--base-only) mode=base ;;
--engine) mode=engine ;;
*) echo "usage: scripts/container-images.sh [--test-kafka | --base-only | --engine]" >&2; exit 2 ;;
esac

# The engine: $ARB_CONTAINER_ENGINE, else docker if its engine answers, else podman if it
# works. The reasons none works are kept for the message.
engine_works() {
    command -v "$1" >/dev/null 2>&1 || { why="$why; $1: not installed"; return 1; }
    out=$("$1" info 2>&1 >/dev/null) || { why="$why; $1 info: $(printf '%s' "$out" | tail -n 1)"; return 1; }
}
# A docker CLI whose DOCKER_HOST is podman's Docker-compatible socket reaches podman, which
# builds with its own builder (not BuildKit): that is podman, used as podman.
docker_is_podman() {
    docker version --format '{{range .Server.Components}}{{.Name}};{{end}}' 2>/dev/null |
        grep -q 'Podman Engine'
}
why=
if [ -n "${ARB_CONTAINER_ENGINE:-}" ]; then
    engine=$ARB_CONTAINER_ENGINE
    case $engine in docker | podman) ;; *) die "ARB_CONTAINER_ENGINE: docker or podman, not $engine" ;; esac
    engine_works "$engine" || die "ARB_CONTAINER_ENGINE=$engine does not work${why}"
elif engine_works docker && ! docker_is_podman; then
    engine=docker
elif engine_works podman; then
    engine=podman
else
    die "no container engine works here${why} (scripts/install-container-deps.sh installs podman)"
fi
if [ "$mode" = engine ]; then
    echo "$engine"
    exit 0
fi

have_image() { "$engine" image inspect "$1" >/dev/null 2>&1; }

# size IMAGE: its size in MB (10^6 bytes), as `images` shows it.
size() {
    bytes=$("$engine" image inspect --format '{{.Size}}' "$1")
    echo "$((bytes / 1000000)) MB"
}

# ---- the base images ---------------------------------------------------------------------

# This machine's Debian sources, as one-line sources.list entries for the image: each
# "URI SUITE/COMPONENT" apt has a Debian release for, of the bookworm suites.
host_sources() {
    LC_ALL=C apt-cache policy | awk '
        $1 ~ /^[0-9]+$/ && $2 ~ /:\/\// && $3 ~ /\// { uri = $2; split($3, sc, "/"); next }
        uri != "" && /release / && /o=Debian/ && sc[1] ~ /^bookworm(-updates|-security)?$/ {
            line = "deb " uri " " sc[1] " " sc[2]
            if (!(line in seen)) { seen[line] = 1; print line }
        }
        { uri = "" }'
}

# rootfs_tarballs: make $cache/bookworm.tar and $cache/bookworm-slim.tar (debootstrap once).
rootfs_tarballs() {
    if [ -s "$cache/bookworm.tar" ] && [ -s "$cache/bookworm-slim.tar" ]; then
        say "base root file systems cached in $cache"
        return 0
    fi
    command -v debootstrap >/dev/null 2>&1 ||
        die "no debootstrap to make the base images (scripts/install-container-deps.sh installs it)"
    [ "$(id -u)" -eq 0 ] || die "debootstrap needs root (sudo $0)"
    sources=$(host_sources)
    [ -n "$sources" ] || die "no bookworm source in this machine's apt configuration (apt-cache policy)"
    mirror=$(printf '%s\n' "$sources" | awk '$3 == "bookworm" { print $2; exit }')
    [ -n "$mirror" ] || die "no source of the bookworm suite itself in: $sources"
    mkdir -p "$cache"
    work=$(mktemp -d "$cache/debootstrap.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    say "debootstrap --variant=minbase bookworm from $mirror (about a minute)"
    debootstrap --variant=minbase bookworm "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -n 20 "$work/debootstrap.log" >&2
        die "debootstrap failed (above)"
    }
    printf '%s\n' "$sources" >"$work/root/etc/apt/sources.list"
    # The Acquire settings of this machine that reaching its mirror may need (a proxy, a
    # snapshot mirror's old Release dates), nothing else.
    apt-config dump | grep -E '^Acquire::((https?|ftp)::Proxy|Check-Valid-Until|Check-Date) ' \
        >"$work/root/etc/apt/apt.conf.d/90host-acquire" || true
    # What the official images do: no package cache, no apt lists, no recommends kept.
    chroot "$work/root" apt-get clean
    rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin \
        "$work/root/var/log/"*.log "$work/root/var/log/apt/"* "$work/root/var/cache/ldconfig/aux-cache"
    tar --numeric-owner -C "$work/root" -cf "$work/bookworm.tar" .
    # -slim: the official slim image's dpkg filter, and the files it filters removed.
    cat >"$work/root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As in the official -slim images: no documentation, man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    find "$work/root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$work/root/usr/share/doc" -mindepth 1 -type d -empty -delete
    for dir in man groff info lintian linda; do rm -rf "$work/root/usr/share/$dir"; done
    find "$work/root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    tar --numeric-owner -C "$work/root" -cf "$work/bookworm-slim.tar" .
    mv "$work/bookworm.tar" "$work/bookworm-slim.tar" "$cache/"
    rm -rf "$work"
    trap - EXIT
    say "base root file systems in $cache"
}

base_images() {
    missing=
    for name in debian:bookworm debian:bookworm-slim; do
        have_image "$name" || missing="$missing $name"
    done
    if [ -z "$missing" ]; then
        say "base images present: debian:bookworm, debian:bookworm-slim"
        return 0
    fi
    say "base images missing:$missing; making them"
    rootfs_tarballs
    for name in $missing; do
        "$engine" import \
            --change 'CMD ["bash"]' \
            --change 'LABEL org.opencontainers.image.description="Debian 12 minbase, made by airudder-bridge scripts/container-images.sh (debootstrap)"' \
            "$cache/${name#debian:}.tar" "$name" >/dev/null || die "$engine import $name failed"
        say "imported $name ($(size "$name"))"
    done
}

# ---- the images --------------------------------------------------------------------------

# build TAG DOCKERFILE CONTEXT [ARG...]
build() {
    tag=$1 file=$2 context=$3
    shift 3
    start=$(date +%s)
    say "building $tag from ${file#"$root"/} ($engine)"
    if [ "$engine" = docker ]; then
        # BuildKit reads docker/Dockerfile.dockerignore beside the Dockerfile by itself.
        DOCKER_BUILDKIT=1 docker build --network host -f "$file" -t "$tag" "$@" "$context"
    else
        ignore=
        [ ! -f "$file.dockerignore" ] || ignore=$file.dockerignore
        # --format docker: the OCI image format has no HEALTHCHECK (podman drops it, warning).
        # --pull=never: the base images are local (above); never ask a registry for them.
        podman build --format docker --network host --pull=never -f "$file" \
            ${ignore:+--ignorefile "$ignore"} -t "$tag" "$@" "$context"
    fi || die "building $tag failed"
    say "built $tag in $(($(date +%s) - start)) s: $(size "$tag")"
}

test_kafka() {
    pom=$root/tests/kafka/pom.xml
    version=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$pom")
    [ -n "$version" ] || die "no <kafka.version> in $pom"
    "$root/tests/kafka/kafka.sh" fetch
    libs=${ARB_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/airudder-bridge/kafka-$version}/libs
    [ -f "$libs/kafka_2.13-$version.jar" ] || die "no Kafka $version jars in $libs"
    # The context: tests/compose/kafka/ and the jars (hard links where the file system allows).
    context=$(mktemp -d "${TMPDIR:-/tmp}/arb-kafka-image.XXXXXX")
    cp -R "$root/tests/compose/kafka/." "$context/"
    cp -lR "$libs" "$context/libs" 2>/dev/null || cp -R "$libs" "$context/libs"
    rc=0
    (build "localhost/airudder-test-kafka:$version" "$context/Dockerfile" "$context" \
        --build-arg "KAFKA_VERSION=$version") || rc=$?
    rm -rf "$context"
    [ "$rc" -eq 0 ] || exit "$rc"
}

base_images
case $mode in
base) ;;
kafka)
    build "$image" "$root/docker/Dockerfile" "$root"
    test_kafka
    ;;
*) build "$image" "$root/docker/Dockerfile" "$root" ;;
esac

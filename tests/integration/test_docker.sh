#!/bin/sh
# The container deployment (docker/), checked without a container engine: nothing here builds
# or runs an image (tests/compose/test_compose.sh does, where an engine works), so this is what
# can be checked offline, on every machine.
#   - docker-compose.yml is valid for Compose (`docker-compose config`, Compose 1.29, which
#     needs no engine) and refuses to start without the two secrets; every file it refers to
#     exists; each service has a healthcheck, waits on the right condition, and uses the
#     ports, addresses and topics that docker/conf/ and the Dockerfile agree on.
#   - The Dockerfile's build stage is replayed on this machine (a Debian 12 like its base):
#     its COPYs into a temp dir, then its build RUN as written. The runtime stage's package
#     list must equal scripts/runtime-packages.sh for those binaries and for the ones in
#     $ARB_BUILD_DIR (the packages owning every library ldd shows, less libc6), plus
#     ca-certificates. The build stage installs scripts/install-deps.sh's build packages; the
#     image runs as a non-root USER with a HEALTHCHECK; every COPY source is in the context.
#   - docker/conf/ (and conf/, baked into the image) pass the binaries' -t.
#   - The HEALTHCHECK probe, as the image builds it, passes on a serving sample desk and fails
#     on a 404 and on a closed port.
#   - hadolint, when installed (it is no Debian package).
# It needs no broker (CTest gives it the shared one like every integration test).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

tmp=$(arb_tmpdir)
docker=$ARB_SOURCE_DIR/docker
dockerfile=$docker/Dockerfile
compose=$docker/docker-compose.yml
export AIRUDDER_SIGN_SECRET="$ARB_SIGN_SECRET" DESK_SIGN_SECRET

for file in "$dockerfile" "$docker/Dockerfile.dockerignore" "$compose" "$docker/README.md" \
    "$docker/healthcheck.c" "$docker/conf/airudder-bridge.conf" "$docker/conf/airudder-replay.conf" \
    "$ARB_SOURCE_DIR/scripts/runtime-packages.sh"; do
    [ -f "$file" ] || arb_fail "missing: $file"
done
echo "ok: docker/ has its files"

# ---- the Dockerfile, as instructions -----------------------------------------------------

# Instructions one per line: continuation lines joined, comment lines dropped (as Docker
# does), blanks squeezed. $tmp/build.df is the build stage, $tmp/runtime.df the final one.
awk '/^[[:space:]]*#/ { next }
     { line = line " " $0 }
     /\\[[:space:]]*$/ { sub(/\\[[:space:]]*$/, "", line); next }
     { gsub(/[[:space:]]+/, " ", line); sub(/^ /, "", line); if (line != "") print line; line = "" }' \
    "$dockerfile" >"$tmp/all.df"
arb_assert_eq 2 "$(grep -c '^FROM ' "$tmp/all.df")" "two stages"
awk '/^FROM /{ n++ } n == 1' "$tmp/all.df" >"$tmp/build.df"
awk '/^FROM /{ n++ } n == 2' "$tmp/all.df" >"$tmp/runtime.df"
arb_assert_eq "FROM debian:bookworm AS build" "$(head -n 1 "$tmp/build.df")" "build stage base"
arb_assert_eq "FROM debian:bookworm-slim" "$(head -n 1 "$tmp/runtime.df")" "runtime stage base"

# apt_packages STAGE: the packages its `apt-get install`s name, sorted, one per line.
apt_packages() {
    sed -n 's/.*apt-get install \(.*\)$/\1/p' "$1" | sed 's/&&.*//; s/;.*//' | tr ' ' '\n' |
        grep -v '^-' | grep . | sort -u
}
for stage in build runtime; do
    grep 'apt-get install' "$tmp/$stage.df" | grep -vq -- '--no-install-recommends' &&
        arb_fail "$stage stage: an apt-get install without --no-install-recommends"
    grep 'apt-get install' "$tmp/$stage.df" | grep -q 'rm -rf /var/lib/apt/lists/\*' ||
        arb_fail "$stage stage: the apt lists are not removed in the RUN that installs"
done
echo "ok: apt-get install --no-install-recommends, lists removed"

# The build stage installs install-deps.sh's build packages: every -dev one (but the fuzzing
# runtime, libclang-rt: the image builds no fuzz targets), cmake and pkg-config;
# build-essential, or gcc + g++ + make + libc6-dev for it.
sed -n "/^packages='/,/'\$/p" "$ARB_SOURCE_DIR/scripts/install-deps.sh" |
    sed "s/^packages=//; s/'//g" | tr ' ' '\n' | grep . | sort -u >"$tmp/install-deps.list"
grep -q . "$tmp/install-deps.list" || arb_fail "cannot read the package list of scripts/install-deps.sh"
apt_packages "$tmp/build.df" >"$tmp/build.list"
{
    grep -e '-dev$' -e '^cmake$' -e '^pkg-config$' "$tmp/install-deps.list" | grep -v '^libclang-rt-'
    if ! grep -qx build-essential "$tmp/build.list"; then printf '%s\n' gcc g++ make libc6-dev; fi
} | sort -u >"$tmp/build.want"
missing=$(comm -23 "$tmp/build.want" "$tmp/build.list" | tr '\n' ' ')
[ -z "$missing" ] || arb_fail "the build stage does not install: $missing(scripts/install-deps.sh lists them)"
echo "ok: the build stage installs the build packages of scripts/install-deps.sh"

# The final stage: a non-root USER, a HEALTHCHECK, the ports, the bridge by default.
user=$(sed -n 's/^USER //p' "$tmp/runtime.df" | tail -n 1)
[ -n "$user" ] || arb_fail "the image has no USER: it would run as root"
case ${user%%:*} in root | 0) arb_fail "the image runs as root (USER $user)" ;; esac
echo "ok: runs as USER $user"
healthcheck=$(sed -n 's/^HEALTHCHECK //p' "$tmp/runtime.df" | tail -n 1)
case $healthcheck in
*CMD*arb-healthcheck*/healthz*) echo "ok: HEALTHCHECK $healthcheck" ;;
*) arb_fail "no HEALTHCHECK running arb-healthcheck on /healthz (got '$healthcheck')" ;;
esac
for port in 8080 8081 9000; do
    grep -Eq "^EXPOSE( [0-9/a-z]+)* $port( |$)" "$tmp/runtime.df" || arb_fail "port $port not EXPOSEd"
done
arb_assert_eq 'CMD ["airudder-bridge", "-c", "/etc/airudder/airudder-bridge.conf"]' \
    "$(grep '^CMD ' "$tmp/runtime.df" | tail -n 1)" "the default command"

# COPY instructions of the context (not --from) as "SOURCE DEST" lines, one per source.
copies() {
    grep '^COPY ' "$1" | grep -v -- '--from=' |
        awk '{ for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i, $NF }'
}

# Every COPY source from the context exists and is let in by Dockerfile.dockerignore (a "*"
# followed by "!PATH" lines).
sed -n '/^!/s/^!//p' "$docker/Dockerfile.dockerignore" >"$tmp/allowed"
[ "$(grep -v '^#' "$docker/Dockerfile.dockerignore" | grep . | head -n 1)" = '*' ] ||
    arb_fail "Dockerfile.dockerignore does not start by leaving everything out ('*')"
copies "$tmp/all.df" >"$tmp/copies"
grep -q . "$tmp/copies" || arb_fail "no COPY from the build context"
while read -r source _; do
    [ -e "$ARB_SOURCE_DIR/$source" ] || arb_fail "COPY $source: no such file in the repository"
    awk -v s="$source" '$0 == s || index(s, $0 "/") == 1 { found = 1 } END { exit !found }' \
        "$tmp/allowed" || arb_fail "COPY $source: left out of the context by Dockerfile.dockerignore"
done <"$tmp/copies"
echo "ok: every COPY source exists and is in the build context"

# ---- the build stage, replayed here ------------------------------------------------------

# Its COPYs into $tmp/image/src (the WORKDIR; a directory's contents are copied, as COPY
# does), then its build RUN as written (cmake, the three targets, the probe), so a source,
# target or flag the image build would miss fails here. The base is Debian 12 like this
# machine.
arb_assert_eq "WORKDIR /src" "$(grep '^WORKDIR ' "$tmp/build.df")" "the build stage works in /src"
workdir=$tmp/image/src
mkdir -p "$workdir"
copies "$tmp/build.df" >"$tmp/build.copies"
while read -r source dest; do
    case $dest in */) mkdir -p "$workdir/$dest" ;; *) mkdir -p "$(dirname "$workdir/$dest")" ;; esac
    if [ -d "$ARB_SOURCE_DIR/$source" ]; then
        mkdir -p "$workdir/$dest"
        cp -R "$ARB_SOURCE_DIR/$source/." "$workdir/$dest/" || arb_fail "cannot copy $source"
    else
        cp "$ARB_SOURCE_DIR/$source" "$workdir/$dest" || arb_fail "cannot copy $source"
    fi
done <"$tmp/build.copies"
rm -rf "$workdir/tests/kafka/target"
build_run=$(sed -n 's/^RUN \(cmake -S .*\)$/\1/p' "$tmp/build.df")
[ -n "$build_run" ] || arb_fail "no build RUN (cmake -S ...) in the build stage"
(cd "$workdir" && sh -ec "$build_run") >"$tmp/image-build.log" 2>&1 || {
    tail -n 30 "$tmp/image-build.log" >&2
    arb_fail "the build stage's RUN fails here: $build_run"
}
# The runtime stage's COPY --from=build sources (/src/... in the image), made here.
sed -n 's/^COPY --from=build \(.*\) [^ ]*$/\1/p' "$tmp/runtime.df" | tr ' ' '\n' >"$tmp/image.copies"
: >"$tmp/image.bins"
while read -r path; do
    case $path in /src/*) ;; *) arb_fail "COPY --from=build $path: not under the WORKDIR /src" ;; esac
    [ -x "$workdir/${path#/src/}" ] || arb_fail "the build stage made no $path"
    printf '%s\n' "$workdir/${path#/src/}" >>"$tmp/image.bins"
done <"$tmp/image.copies"
arb_assert_eq 4 "$(wc -l <"$tmp/image.bins" | tr -d ' ')" "the runtime stage copies four binaries"
echo "ok: the build stage's commands build the four binaries here"

# ---- the runtime packages: exactly what the binaries load ---------------------------------

apt_packages "$tmp/runtime.df" | grep -vx ca-certificates >"$tmp/runtime.list"
# compare WHAT BINARY...: fail, showing the difference, unless the runtime list is exactly
# the packages owning the binaries' libraries.
compare() {
    what=$1
    shift
    "$ARB_SOURCE_DIR/scripts/runtime-packages.sh" "$@" >"$tmp/runtime.want" ||
        arb_fail "scripts/runtime-packages.sh failed on $what"
    if ! cmp -s "$tmp/runtime.want" "$tmp/runtime.list"; then
        printf 'the libraries of %s need (<) / the Dockerfile installs (>):\n' "$what" >&2
        diff "$tmp/runtime.want" "$tmp/runtime.list" >&2 || true
        arb_fail "docker/Dockerfile's runtime packages differ from what $what load (scripts/runtime-packages.sh)"
    fi
    echo "ok: the runtime packages are exactly those of $what ($(wc -l <"$tmp/runtime.want") + ca-certificates)"
}
set --
while read -r binary; do set -- "$@" "$binary"; done <"$tmp/image.bins"
compare "the image's binaries" "$@"
compare "\$ARB_BUILD_DIR's binaries" "$ARB_BUILD_DIR/airudder-bridge" "$ARB_BUILD_DIR/airudder-replay" \
    "$ARB_BUILD_DIR/tests/desk/sample-desk"

# ---- the configurations pass -t -----------------------------------------------------------

# With the binaries of the test's build tree and with the image's.
for dir in "$ARB_BUILD_DIR" "$workdir/build"; do
    [ "$dir" = "$ARB_BUILD_DIR" ] && which="\$ARB_BUILD_DIR's" || which="the image's"
    for conf in docker/conf conf; do
        for program in airudder-bridge airudder-replay; do
            out=$("$dir/$program" -t -c "$ARB_SOURCE_DIR/$conf/$program.conf" 2>&1) ||
                arb_fail "$which $program -t -c $conf/$program.conf: $out"
            arb_assert_eq "configuration OK" "$out" "$which $program -t accepts $conf/$program.conf"
        done
    done
done
out=$(env -u DESK_SIGN_SECRET "$ARB_BUILD_DIR/airudder-replay" -t -c "$docker/conf/airudder-replay.conf" 2>&1) &&
    arb_fail "the replay's docker config loads without DESK_SIGN_SECRET"
case $out in *DESK_SIGN_SECRET*) echo "ok: docker/conf needs DESK_SIGN_SECRET" ;;
*) arb_fail "no word of DESK_SIGN_SECRET: $out" ;; esac

# ---- the health probe ---------------------------------------------------------------------

# The image's probe against the image's sample desk.
probe=$workdir/build/arb-healthcheck
desk_port=$(arb_free_port)
arb_bg desk "$workdir/build/tests/desk/sample-desk" --listen "127.0.0.1:$desk_port" --out "$tmp/desk.out"
desk_base=http://127.0.0.1:$desk_port
arb_wait_http "$desk_base/healthz"
"$probe" "$desk_base/healthz" || arb_fail "arb-healthcheck fails on a serving desk's /healthz"
echo "ok: arb-healthcheck passes on /healthz answering 200"
"$probe" "$desk_base/no-such-path" 2>"$tmp/probe.err" && arb_fail "arb-healthcheck passes on a 404"
grep -q 'HTTP 404' "$tmp/probe.err" || arb_fail "arb-healthcheck on a 404 said: $(cat "$tmp/probe.err")"
"$probe" "http://127.0.0.1:$(arb_free_port)/healthz" 2>/dev/null && arb_fail "arb-healthcheck passes on a closed port"
rc=0
"$probe" 2>/dev/null || rc=$?
arb_assert_eq 2 "$rc" "arb-healthcheck without a URL: usage, exit 2"
echo "ok: arb-healthcheck fails on a 404 and on a closed port"

# ---- the compose file ---------------------------------------------------------------------

command -v docker-compose >/dev/null 2>&1 ||
    arb_fail "docker-compose not installed (scripts/install-deps.sh installs Debian's)"
/usr/bin/python3 -c 'import yaml' 2>/dev/null ||
    arb_fail "/usr/bin/python3 cannot import yaml (python3-yaml; scripts/install-deps.sh)"
docker-compose -f "$compose" config -q 2>"$tmp/compose.err" ||
    arb_fail "docker-compose config rejects docker/docker-compose.yml: $(cat "$tmp/compose.err")"
echo "ok: docker-compose config accepts docker/docker-compose.yml"
for secret in AIRUDDER_SIGN_SECRET DESK_SIGN_SECRET; do
    env -u "$secret" docker-compose -f "$compose" config -q 2>"$tmp/compose.err" &&
        arb_fail "docker-compose config accepts the file without $secret"
    grep -q "$secret" "$tmp/compose.err" || arb_fail "without $secret: $(cat "$tmp/compose.err")"
    echo "ok: without $secret, compose refuses and names it"
done
docker-compose -f "$compose" config >"$tmp/compose.resolved.yml" 2>"$tmp/compose.err" ||
    arb_fail "docker-compose config: $(cat "$tmp/compose.err")"

# The resolved file (paths absolute) against the files, the configurations and the image.
# The Debian python3, where python3-yaml is (a python3 earlier on PATH may not have it).
/usr/bin/python3 - "$tmp/compose.resolved.yml" "$ARB_SOURCE_DIR" <<'PYTHON' || arb_fail "docker/docker-compose.yml: see above"
import os, re, sys, yaml
from urllib.parse import urlsplit

compose_file, root = sys.argv[1], sys.argv[2]
with open(compose_file) as f:
    services = yaml.safe_load(f)["services"]
errors = []

def check(cond, message):
    if not cond:
        errors.append(message)
    return cond

def conf_value(path, key):
    with open(path) as f:
        m = re.search(r'^\s*' + re.escape(key) + r'\s*=\s*"([^"]*)"', f.read(), re.M)
    return m.group(1) if m else None

def port_of(hostport):
    return int(hostport.rsplit(":", 1)[1])

want = {"kafka", "topics", "bridge", "replay", "desk"}
check(set(services) == want, "services are %s, not %s" % (sorted(services), sorted(want)))
ours = ("bridge", "replay", "desk")

kafka = services.get("kafka", {})
env = kafka.get("environment", {})
check(kafka.get("image") == "apache/kafka:4.1.1", "kafka: image is not apache/kafka:4.1.1")
check(env.get("KAFKA_PROCESS_ROLES") == "broker,controller", "kafka: not broker,controller (KRaft)")
check(env.get("KAFKA_ADVERTISED_LISTENERS") == "PLAINTEXT://kafka:9092",
      "kafka: clients are not told kafka:9092")

# Healthchecks, and every depends_on with a condition the target can meet.
for name in ("kafka",) + ours:
    test = services.get(name, {}).get("healthcheck", {}).get("test")
    check(test and test[0] in ("CMD", "CMD-SHELL"), "%s: no healthcheck" % name)
conditions = {"topics": {"kafka": "service_healthy"},
              "bridge": {"topics": "service_completed_successfully"},
              "replay": {"topics": "service_completed_successfully", "desk": "service_healthy"}}
for name, deps in conditions.items():
    got = {k: v.get("condition") for k, v in (services.get(name, {}).get("depends_on") or {}).items()}
    check(got == deps, "%s: depends_on %s, expected %s" % (name, got, deps))

# The topics and their partitions.
command = " ".join(services.get("topics", {}).get("command") or [])
for topic, partitions in (("airudder.messages", 3), ("airudder.deadletter", 1)):
    check(re.search(r"--create --if-not-exists --topic %s --partitions %d --replication-factor 1\b"
                    % (re.escape(topic), partitions), command),
          "topics: does not create %s with %d partitions" % (topic, partitions))

# Our three: one image, built from docker/Dockerfile with the repository as context.
for name in ours:
    service = services.get(name, {})
    build = service.get("build", {})
    context = build.get("context", "")
    check(os.path.realpath(context) == os.path.realpath(root), "%s: build context %s is not the repository" % (name, context))
    check(os.path.realpath(os.path.join(context, build.get("dockerfile", "Dockerfile")))
          == os.path.realpath(os.path.join(root, "docker/Dockerfile")), "%s: not built from docker/Dockerfile" % name)
    check(service.get("image") == "airudder-bridge:local", "%s: image is not airudder-bridge:local" % name)

# Every bind mount's source exists; the configurations are docker/conf's, read-only, where
# the command reads them.
mounts = {}
for name, service in services.items():
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            source, target, ro = volume.get("source"), volume.get("target"), volume.get("read_only", False)
            if volume.get("type") != "bind":
                continue
        else:
            parts = volume.split(":")
            if not parts[0].startswith("/"):
                continue  # a named volume
            source, target, ro = parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")
        check(os.path.exists(source), "%s: mounts %s, which does not exist" % (name, source))
        mounts.setdefault(name, []).append((source, target, ro))
docker_conf = os.path.join(root, "docker", "conf")
for name, program in (("bridge", "airudder-bridge"), ("replay", "airudder-replay")):
    target = "/etc/airudder/%s.conf" % program
    check(services.get(name, {}).get("command") == [program, "-c", target], "%s: command is not %s -c %s" % (name, program, target))
    check(mounts.get(name) == [(os.path.join(docker_conf, program + ".conf"), target, True)],
          "%s: does not mount docker/conf/%s.conf read-only at %s (got %s)" % (name, program, target, mounts.get(name)))

# Addresses: the configurations, the desk's command and the healthchecks agree.
bridge_conf = os.path.join(docker_conf, "airudder-bridge.conf")
replay_conf = os.path.join(docker_conf, "airudder-replay.conf")
for conf in (bridge_conf, replay_conf):
    check(conf_value(conf, "bootstrap") == "kafka:9092", "%s: kafka.bootstrap is not kafka:9092" % conf)
listen = conf_value(bridge_conf, "listen")
admin = conf_value(replay_conf, "admin_listen")
desk_url = urlsplit(conf_value(replay_conf, "url") or "")
desk_cmd = services.get("desk", {}).get("command") or []
desk_listen = desk_cmd[desk_cmd.index("--listen") + 1] if "--listen" in desk_cmd else ""
desk_path = desk_cmd[desk_cmd.index("--path") + 1] if "--path" in desk_cmd else "/events"
check(listen.startswith("0.0.0.0:"), "bridge: http.listen %s is not on every interface" % listen)
check(admin.startswith("0.0.0.0:"), "replay: admin_listen %s is not on every interface" % admin)
check(desk_listen.startswith("0.0.0.0:"), "desk: --listen %s is not on every interface" % desk_listen)
check(desk_url.hostname == "desk" and desk_url.port == port_of(desk_listen) and desk_url.path == desk_path,
      "replay: desk.url %s is not the desk service (%s, path %s)" % (desk_url.geturl(), desk_listen, desk_path))
for name, hostport in (("bridge", listen), ("replay", admin), ("desk", desk_listen)):
    test = services.get(name, {}).get("healthcheck", {}).get("test") or []
    url = "http://127.0.0.1:%d/healthz" % port_of(hostport)
    check(test == ["CMD", "arb-healthcheck", url], "%s: healthcheck %s, expected arb-healthcheck %s" % (name, test, url))
for name, hostport in (("bridge", listen), ("replay", admin)):
    ports = [str(p) for p in services.get(name, {}).get("ports") or []]
    check(any(p.split("/")[0].endswith(":%d" % port_of(hostport)) for p in ports),
          "%s: port %d is not published" % (name, port_of(hostport)))
for name, variable in (("bridge", "AIRUDDER_SIGN_SECRET"), ("replay", "DESK_SIGN_SECRET"), ("desk", "DESK_SIGN_SECRET")):
    check(variable in (services.get(name, {}).get("environment") or {}), "%s: %s not passed" % (name, variable))

for error in errors:
    print("FAIL: " + error, file=sys.stderr)
if errors:
    sys.exit(1)
print("ok: compose: services, healthchecks, depends_on, topics, image, mounts, addresses, secrets")
PYTHON

# ---- hadolint, when there is one ----------------------------------------------------------

if command -v hadolint >/dev/null 2>&1; then
    hadolint "$dockerfile" || arb_fail "hadolint finds fault with docker/Dockerfile"
    echo "ok: hadolint"
fi

arb_pass "docker/: Dockerfile, compose file, configurations and probe check out (nothing built or run in a container)"

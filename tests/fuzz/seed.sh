#!/bin/sh
# seed.sh: (re)write the seed corpora in tests/fuzz/corpus/<target>/ from the project's own
# fixtures (tests/fixtures, conf/) and the documented forms of each input. The output is
# committed; run this again when a fixture or an input format changes.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root=$(CDPATH='' cd -- "$here/../.." && pwd)
corpus=$here/corpus
fixtures=$root/tests/fixtures

rm -rf "$corpus"
mkdir -p "$corpus/signature" "$corpus/time" "$corpus/offsets" "$corpus/bridge_conf" \
    "$corpus/replay_conf" "$corpus/ingest" "$corpus/differential" "$corpus/viewer"

# ingest and differential: SCHEMA-BYTE BODY, each fixture under each schema (and, for
# ingest, the signed endpoint too).
for fixture in channel.message.sent message.send workflow.session.end; do
    for schema in 0 1 2; do
        # shellcheck disable=SC2059 # the schema byte is an octal escape, for printf to expand
        { printf "\\00$schema"; cat "$fixtures/$fixture.json"; } >"$corpus/differential/$fixture-$schema"
        cp "$corpus/differential/$fixture-$schema" "$corpus/ingest/$fixture-$schema"
    done
    { printf '\003'; cat "$fixtures/$fixture.json"; } >"$corpus/ingest/$fixture-signed"
done

# signature: OPTION-BYTE SIGNATURE '\n' BODY (see fuzz_signature.c), signed with its "k1"
# secret, so the fuzzer starts on the passing path of every algorithm and encoding.
sign() { # sign ALGO ENCODING FILE
    if [ "$2" = base64 ]; then
        openssl dgst "-$1" -hmac whsec-2024 -binary <"$3" | openssl base64 -A
    else
        out=$(openssl dgst "-$1" -hmac whsec-2024 <"$3")
        printf '%s' "${out##* }"
    fi
}
seed_signature() { # seed_signature NAME OCTAL-OPTION PREFIX ALGO ENCODING FILE
    # shellcheck disable=SC2059 # the option byte is an octal escape, for printf to expand
    { printf "\\$2"; printf '%s' "$3"; sign "$4" "$5" "$6"; printf '\n'; cat "$6"; } \
        >"$corpus/signature/$1"
}
for fixture in channel.message.sent message.send; do
    f=$fixtures/$fixture.json
    seed_signature "$fixture-sha256-hex" 000 '' sha256 hex "$f"
    seed_signature "$fixture-sha1-hex" 001 '' sha1 hex "$f"
    seed_signature "$fixture-sha512-hex" 002 '' sha512 hex "$f"
    seed_signature "$fixture-md5-hex" 003 '' md5 hex "$f"
    seed_signature "$fixture-sha256-base64" 004 '' sha256 base64 "$f"
    seed_signature "$fixture-sha256-prefix-k1" 030 sha256= sha256 hex "$f"
    seed_signature "$fixture-sha512-base64-prepared" 106 '' sha512 base64 "$f"
done
printf '\000\n' >"$corpus/signature/empty"

# time: the forms --from and --until accept, and a few near misses.
n=0
for t in 2026-11-23T10:05:00Z 2026-11-23T18:05:00.250+08:00 '2026-11-23 10:05:00z' \
    2026-11-23T10:05:00.123456789-00:30 1795544251093 0 1970-01-01T00:00:00Z \
    2026-02-29T00:00:00Z 2026-11-23T24:00:00Z 9999-12-31T23:59:59.999Z 2026-11-23; do
    n=$((n + 1))
    printf '%s' "$t" >"$corpus/time/$n"
done

# offsets: T:P:O lists as --offsets takes them.
n=0
for o in airudder.messages:1:0 airudder.messages:0:5,airudder.messages:1:7,airudder.deadletter:0:0 \
    my_topic-2:2147483647:9223372036854775807 a:0:0,a:0:1 'a:b:c:0:0' ':0:0'; do
    n=$((n + 1))
    printf '%s' "$o" >"$corpus/offsets/$n"
done

# configs: the shipped ones, and the shapes the integration tests write.
cp "$root/conf/airudder-bridge.conf" "$corpus/bridge_conf/shipped.conf"
cp "$root/conf/airudder-replay.conf" "$corpus/replay_conf/shipped.conf"
cat >"$corpus/bridge_conf/tests.conf" <<'CONF'
http = { listen = "127.0.0.1:8080"; path = "/v1/events"; max_body_bytes = 8192; max_in_flight = 1; };
signature = { secrets = ( { id = "2025"; secret = "file:secret"; }, { id = "2024"; secret = "${AIRUDDER_SIGN_SECRET_OLD}"; } );
              key_header = "X-AIRudder-Sign-Key"; encoding = "base64"; prefix = "sha256="; };
kafka = { bootstrap = "127.0.0.1:9092"; ack_timeout_ms = 10000; properties = { compression_codec = "zstd"; }; };
routes = ( { event = "channel.message.sent"; topic = "chat.{channel}.{company}"; }, { event = "*"; topic = "airudder.{event}"; } );
deadletter = { topic = "airudder.deadletter"; };
log = { level = "debug"; format = "json"; file = ""; };
shutdown_timeout_s = 10;
CONF
cat >"$corpus/replay_conf/tests.conf" <<'CONF'
kafka = { bootstrap = "127.0.0.1:9092"; properties = { session_timeout_ms = 6000; }; };
replay = { group = "airudder-replay"; topics = [ "^airudder\\..*" ]; admin_listen = "127.0.0.1:9100"; max_buffered = 16; };
desk = { url = "http://127.0.0.1:9001/events"; format = "record"; max_retry_s = 5; rate_limit_rps = 2.5;
         signature = { secrets = [ "${DESK_SIGN_SECRET}" ]; algorithm = "sha1"; }; };
deadletter = { topic = "airudder.deadletter"; };
log = { level = "info"; format = "text"; };
CONF
# viewer: record values as the bridge writes them, one per message of each fixture, so the
# fuzzer starts from every content type the viewer renders.
for fixture in channel.message.sent message.send workflow.session.end; do
    count=$(jq '.messages | length' "$fixtures/$fixture.json")
    i=0
    while [ "$i" -lt "$count" ]; do
        jq -c --argjson i "$i" '(del(.messages) + {message: .messages[$i], message_index: $i,
            message_count: (.messages | length), received_at: 1720160400123})' \
            "$fixtures/$fixture.json" >"$corpus/viewer/$fixture-$i"
        i=$((i + 1))
    done
done

printf 'http = { threads = 99; };\nbogus = 1;\n' >"$corpus/bridge_conf/errors.conf"
printf 'desk = { url = "ftp://x"; };\nreplay = { topics = []; };\n' >"$corpus/replay_conf/errors.conf"
# What fuzzing found, kept as seeds so that every run tries it first (regressions/<target>/).
for dir in "$here"/regressions/*/; do
    cp "$dir"* "$corpus/$(basename -- "$dir")/"
done
echo "seed.sh: wrote $(find "$corpus" -type f | wc -l) seeds in $corpus"

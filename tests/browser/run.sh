#!/bin/sh
# The conversation viewer in a real browser: headless Chromium (Debian's) driven by
# Playwright (playwright-core from npm). It installs what it lacks itself: Chromium and the
# fonts of the seed's scripts with apt-get, playwright-core into $ARB_BUILD_DIR/browser with
# npm (the version pinned in tests/browser/package.json; never `npx playwright install`,
# which downloads a browser build).
#
# Then, against the shared real broker: the seed event and the workflow session-end fixture
# posted through the bridge (the session end on an endpoint of schema workflow.session.end
# with a token), a third event whose text is markup, the replay delivering them to the
# sample desk, which refuses one message of the seed (so it is dead-lettered), and the
# viewer serving the pages. tests/browser/viewer.test.cjs checks them in the browser and
# re-sends from a message; screenshots go to $ARB_BUILD_DIR/browser/screenshots/.
#
# Run by CTest (browser.viewer) or by hand: ARB_BUILD_DIR=build/dev sh tests/browser/run.sh
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

CHROMIUM=${ARB_CHROMIUM:-/usr/bin/chromium}
browser_dir=$ARB_BUILD_DIR/browser
shots=$browser_dir/screenshots
tmp=$(arb_tmpdir)

# ---- what the test needs ----

apt_install() { # apt_install PACKAGE...: as root, or with sudo
    sudo=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || arb_fail "not root and no sudo: install $* first"
        sudo='sudo -n'
    fi
    printf 'browser: installing %s\n' "$*"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null ||
        arb_fail "apt-get update failed"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o Dpkg::Use-Pty=0 \
        --no-install-recommends install "$@" >/dev/null || arb_fail "apt-get install $* failed"
}

missing=
[ -x "$CHROMIUM" ] || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
for font in fonts-wqy-zenhei fonts-noto-color-emoji; do # the seed's Chinese and its emoji
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$font" 2>/dev/null)" = installed ] ||
        missing="$missing $font"
done
# shellcheck disable=SC2086 # one argument per package
[ -z "$missing" ] || apt_install $missing
[ -x "$CHROMIUM" ] || arb_fail "no Chromium at $CHROMIUM"

want=$(jq -r '.dependencies["playwright-core"]' "$ARB_SOURCE_DIR/tests/browser/package.json")
have=$(jq -r .version "$browser_dir/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    mkdir -p "$browser_dir"
    cp "$ARB_SOURCE_DIR/tests/browser/package.json" "$browser_dir/package.json"
    printf 'browser: npm install playwright-core@%s into %s\n' "$want" "$browser_dir"
    (cd "$browser_dir" && npm install --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1) || {
        cat "$tmp/npm.log" >&2
        arb_fail "npm install failed"
    }
fi
rm -rf "$shots"
mkdir -p "$shots"

# ---- the product, with history to show ----

messages=$(arb_unique messages)
deadletter=$(arb_unique deadletter)
deliveries=$(arb_unique deliveries)
wf_token=workflow-$(arb_unique t)
viewer_token=viewer-$(arb_unique t)
arb_topic_create "$messages" 3
arb_topic_create "$deadletter" 1
arb_topic_create "$deliveries" 1

ARB_BRIDGE_SETTINGS="endpoints = (
  { path = \"/v1/events\"; schema = \"channel.message.sent\"; auth = \"signature\"; },
  { path = \"/v1/workflow\"; schema = \"workflow.session.end\"; event = \"workflow.session.end\";
    auth = \"token\"; token = { header = \"X-Token\"; secrets = [ \"$wf_token\" ]; }; }
);"
arb_start_bridge "$messages" "$deadletter"
# The seed's interactive-button message is refused: it goes to the dead letter.
rejected=e39f5aaba04e4d54b7a2852e17383206
arb_start_desk desk --reject-msg-id "$rejected"

seed=$ARB_SOURCE_DIR/tests/fixtures/channel.message.sent.json
session_end=$ARB_SOURCE_DIR/tests/fixtures/workflow.session.end.json
arb_post "$seed"
code=$(curl -s -o "$tmp/workflow.answer" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "X-Token: $wf_token" --data-binary "@$session_end" "${ARB_BRIDGE_URL%/v1/events}/v1/workflow")
arb_assert_eq 200 "$code" "the session end through /v1/workflow ($(cat "$tmp/workflow.answer"))"
jq -c '.call_id = "xss-conv" | .messages = [{msg_id: "xss-0", sender_type: "user", timestamp: 1720159500,
        content: {type: "text", text: "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>"}}]' \
    "$seed" >"$tmp/xss.json"
arb_post "$tmp/xss.json"

arb_replay_conf "$tmp/replay.conf" "$messages" "$deadletter" "$(arb_unique group)"
view_port=$(arb_free_port)
{
    printf 'delivery_log = { topic = "%s"; };\n' "$deliveries"
    printf 'viewer = { listen = "127.0.0.1:%s"; token = "%s"; };\n' "$view_port" "$viewer_token"
} >>"$tmp/replay.conf"
arb_bg replay "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf"
arb_consume "$deliveries" 11 90 >/dev/null || arb_fail "the delivery log did not get the 11 outcomes"
arb_assert_eq 10 "$(arb_lines "$tmp/desk.out")" "10 of the 11 messages at the desk, one refused"

arb_bg viewer "$ARB_BUILD_DIR/airudder-replay" -c "$tmp/replay.conf" --view
arb_wait_http "http://127.0.0.1:$view_port/healthz" 30

# ---- the browser ----

rc=0
VIEWER_URL=http://127.0.0.1:$view_port VIEWER_TOKEN=$viewer_token CHROMIUM=$CHROMIUM \
    SCREENSHOTS=$shots PROFILE_DIR=$tmp/profiles DESK_OUT=$tmp/desk.out REJECTED=$rejected \
    SEED=$seed SESSION_END=$session_end NODE_PATH=$browser_dir/node_modules \
    timeout 240 node "$ARB_SOURCE_DIR/tests/browser/viewer.test.cjs" || rc=$?
[ "$rc" -eq 0 ] || arb_fail "the browser test failed (status $rc)"
for shot in search seed session-end resend-confirm resend-result; do
    [ -s "$shots/$shot.png" ] || arb_fail "no screenshot $shots/$shot.png"
done
arb_stop viewer || arb_fail "the viewer did not exit 0"
arb_stop replay || arb_fail "the replay did not exit 0"
arb_pass "viewer in Chromium: bubbles, sides, content types, the dead letter, media on click, re-send; screenshots in $shots"

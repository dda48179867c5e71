#!/bin/sh
# run.sh FILE [CASE...]: run one file of the hostile-input suite (tests/hostile/test_*.py)
# against the shared broker: creates the three topics its bridges write to, then runs the
# file's cases (or only those whose names contain a CASE), each against its own bridge.
# CTest runs it as hostile.<file>; see hostile.py for what every case checks.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/lib.sh"

[ $# -ge 1 ] || arb_fail "usage: run.sh FILE [CASE...]"
file=$1
shift
HOSTILE_MESSAGES=$(arb_unique hostile-messages)
HOSTILE_DEADLETTER=$(arb_unique hostile-deadletter)
HOSTILE_FORBIDDEN=$(arb_unique hostile-forbidden)
HOSTILE_TMP=$(arb_tmpdir)
export HOSTILE_MESSAGES HOSTILE_DEADLETTER HOSTILE_FORBIDDEN HOSTILE_TMP
arb_topic_create "$HOSTILE_MESSAGES" 3
arb_topic_create "$HOSTILE_DEADLETTER" 1
arb_topic_create "$HOSTILE_FORBIDDEN" 1
python3 "$file" "$@" || arb_fail "$(basename -- "$file" .py): a case failed (see above)"

#!/bin/sh
# The replay scaled out while records flow, with librdkafka's default (eager) assignment:
# see replay_scale_out.sh.
# shellcheck source-path=SCRIPTDIR source=replay_scale_out.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/replay_scale_out.sh"

#!/bin/sh
# The replay scaled out while records flow, with partition.assignment.strategy =
# cooperative-sticky (incremental rebalancing): see replay_scale_out.sh.
FAULT_STRATEGY=cooperative-sticky
# shellcheck source-path=SCRIPTDIR source=replay_scale_out.sh
. "${ARB_SOURCE_DIR:-$(dirname "$0")/../..}/tests/faults/replay_scale_out.sh"

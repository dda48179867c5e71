#!/bin/sh
# run.sh BINARY SEEDS WORKDIR SECONDS [LIBFUZZER-OPTION...]: fuzz for SECONDS, starting from
# the committed seeds (read only) and what earlier runs kept in WORKDIR/corpus (new inputs
# go there). A crash, leak, sanitizer report, timeout (10 s an input) or out-of-memory
# (2 GB) leaves its input in WORKDIR/ and fails the run; the last lines of libFuzzer's
# output (executions, exec/s, coverage) are printed either way. Used by ctest -L fuzz and by
# scripts/fuzz.sh. $ARB_FUZZ_SECONDS, when set, replaces SECONDS.
set -eu
[ $# -ge 4 ] || {
    echo "usage: run.sh BINARY SEEDS WORKDIR SECONDS [LIBFUZZER-OPTION...]" >&2
    exit 2
}
binary=$1 seeds=$2 work=$3 seconds=${ARB_FUZZ_SECONDS:-$4}
shift 4
[ -x "$binary" ] || {
    echo "run.sh: $binary is not built (cmake --build build/fuzz --target fuzz)" >&2
    exit 2
}
[ -d "$seeds" ] || {
    echo "run.sh: no seed corpus $seeds" >&2
    exit 2
}
mkdir -p "$work/corpus"
name=$(basename -- "$binary")
# libFuzzer runs in WORKDIR (below): every path made absolute.
work=$(CDPATH='' cd -- "$work" && pwd)
binary=$(CDPATH='' cd -- "$(dirname -- "$binary")" && pwd)/$name
seeds=$(CDPATH='' cd -- "$seeds" && pwd)
log=$work/last-run.log
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
rc=0
# -use_value_profile helps through the comparisons of the parsers. Leaks are checked after
# every input, except for the config loaders: libconfig leaks a string token on most syntax
# errors (lsan.supp), and each input that leaks costs a scan of the whole heap (500 exec/s
# instead of 8000). For those, LeakSanitizer checks once, at exit, where libconfig's leaks
# are suppressed and any of ours is still reported (and fails the run).
case $name in fuzz_*_conf) leaks=-detect_leaks=0 ;; *) leaks=-detect_leaks=1 ;; esac
# In WORKDIR: with -jobs=N, libFuzzer writes each job's output to fuzz-<job>.log there.
rm -f "$work"/fuzz-*.log
start=$(date +%s)
(cd "$work" && "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -use_value_profile=1 "$leaks" -artifact_prefix="$work/" "$@" \
    "$work/corpus" "$seeds") >"$log" 2>&1 || rc=$?
elapsed=$(($(date +%s) - start))
# libFuzzer copies each job's log into its own output as the job exits: the figures are
# summed over the job logs when there are any, else read from the one log.
job_logs=
for job_log in "$work"/fuzz-*.log; do [ -f "$job_log" ] && job_logs="$job_logs $job_log"; done
logs="$log$job_logs"
stat_logs=${job_logs:-$log}
# shellcheck disable=SC2086 # one argument per log
if [ "$rc" -ne 0 ] || grep -q '^==[0-9]*== ERROR\|^SUMMARY: ' $logs; then
    for l in $logs; do tail -n 60 "$l" >&2; done
    echo "run.sh: $name FAILED (status $rc); the input is in $work/, the log in $log" >&2
    exit 1
fi
# shellcheck disable=SC2086 # one argument per log
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' $stat_logs | awk '{ s += $1 } END { if (NR) print s }')
# shellcheck disable=SC2086
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' $stat_logs | awk '{ s += $1 } END { if (NR) print s }')
# shellcheck disable=SC2086
cov=$(cat $stat_logs | grep -o 'cov: [0-9]*' | tail -n 1)
printf '%s: %s executions in %s s (limit %s s; %s exec/s), %s, corpus %s files, no finding\n' \
    "$name" "${runs:-?}" "$elapsed" "$seconds" "${speed:-?}" "${cov:-cov: ?}" \
    "$(find "$work/corpus" -type f | wc -l)"

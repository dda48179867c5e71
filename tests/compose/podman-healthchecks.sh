#!/bin/sh
# podman-healthchecks.sh PROJECT: run the healthchecks of a compose project's containers, as
# podman's systemd timers would, on a machine without systemd (podman 4 schedules each
# container's healthcheck with a transient systemd timer; with no systemd, none runs and
# every container stays "starting" for ever). Runs until killed. A container that is not yet
# healthy is checked every second, as a starting container is waited on; a healthy one every
# 10 s, the compose file's interval, so a broken probe still turns it unhealthy. The checks
# themselves are podman's (`podman healthcheck run`): their command, timeout, retries and
# start period are the container's, from the compose file.
set -u

[ $# -eq 1 ] || { echo "usage: podman-healthchecks.sh PROJECT" >&2; exit 2; }
project=$1
round=0
while :; do
    for id in $(podman ps -q --filter "label=com.docker.compose.project=$project" 2>/dev/null); do
        status=$(podman inspect --format '{{.State.Health.Status}}' "$id" 2>/dev/null) || continue
        case $status in
        '' | '<no value>') ;; # no healthcheck
        healthy) [ $((round % 10)) -ne 0 ] || podman healthcheck run "$id" >/dev/null 2>&1 & ;;
        *) podman healthcheck run "$id" >/dev/null 2>&1 & ;;
        esac
    done
    wait
    round=$((round + 1))
    sleep 1
done

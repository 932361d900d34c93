#!/usr/bin/env bash
# Stops the cluster of scripts/slurm_up.sh: cancels its jobs, stops the daemons whose pids it
# recorded (and no other process), then removes its state folder.
#
#   scripts/slurm_down.sh           # stop and remove
#   scripts/slurm_down.sh --check   # exit 0 if every daemon it started runs and sinfo answers
#
# A pid is only signalled if the process still has the start time recorded with it, so a pid
# the system has since given to another process is left alone.
set -uo pipefail

state=${LINREG_SLURM_STATE:-${TMPDIR:-/tmp}/linreg-slurm}
marker=$state/.made-by-linreg-slurm-up
daemons=(slurmd slurmctld slurmdbd mariadbd munged)   # the order to stop them in

say() { echo "slurm_down: $*"; }

ours() {  # ours NAME: print the recorded pid if that very process still runs
    local record=$state/pids/$1 pid start
    [ -f "$record" ] || return 1
    read -r pid start <"$record"
    [ -r "/proc/$pid/stat" ] || return 1
    [ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$start" ] || return 1
    echo "$pid"
}

if [ "${1:-}" = --check ]; then
    [ -e "$marker" ] || exit 1
    for name in "${daemons[@]}"; do
        ours "$name" >/dev/null || exit 1
    done
    SLURM_CONF=$state/etc/slurm.conf timeout 10 sinfo -h >/dev/null 2>&1
    exit
fi

if [ ! -e "$marker" ]; then
    say "no cluster of slurm_up.sh in $state: nothing to stop"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "slurm_down: run me as root" >&2; exit 1; }
export SLURM_CONF=$state/etc/slurm.conf

# Jobs first, so that no job step outlives its slurmd: scancel sends SIGTERM, Slurm sends
# SIGKILL KillWait (5 s) later.
if ours slurmctld >/dev/null && ours slurmd >/dev/null; then
    jobs=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u)
    if [ -n "$jobs" ]; then
        say "cancelling jobs $(echo "$jobs" | tr '\n' ' ')"
        # shellcheck disable=SC2086
        timeout 10 scancel $jobs
        for _ in $(seq 100); do
            [ -z "$(timeout 5 squeue -h -o %A 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
fi

for name in "${daemons[@]}"; do
    pid=$(ours "$name") || continue
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do
        ours "$name" >/dev/null || break
        sleep 0.2
    done
    if pid=$(ours "$name"); then
        say "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
done

rm -rf -- "$state"
say "stopped; removed $state"

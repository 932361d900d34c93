#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the cluster tests (tests/sweeps/test_slurm*.py)
# and for trying `hydra/launcher=slurm` without a real cluster.
#
#   sudo scripts/slurm_up.sh      # ~40 s from nothing (apt-get included), ~6 s once installed
#   . "${TMPDIR:-/tmp}/linreg-slurm/env"; sinfo; sbatch ...; sacct
#   sudo scripts/slurm_down.sh    # stops exactly what this started, removes its folder
#
# Debian's Slurm (slurmctld, slurmd; slurmdbd with MariaDB so that `sacct` answers, which
# submitit needs to see a cancelled job) and MUNGE run as plain background processes, no
# systemd. Everything they write -- config, keys, logs, the database, Slurm's state -- lives in
# one state folder ($LINREG_SLURM_STATE, default ${TMPDIR:-/tmp}/linreg-slurm) that this script
# creates; nothing is written under /etc. The pid of each daemon is recorded there, so
# slurm_down.sh stops only those. Runs as root. Facts behind each value:
# ../shared/reference/FACTS.md, "A real Slurm cluster on this machine kind".
set -euo pipefail

state=${LINREG_SLURM_STATE:-${TMPDIR:-/tmp}/linreg-slurm}
ctld_port=${LINREG_SLURM_PORT:-6817}          # slurmd uses +1, slurmdbd +2, MariaDB +3
marker=$state/.made-by-linreg-slurm-up
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "slurm_up: $*"; }
die() { echo "slurm_up: $*" >&2; exit 1; }
failed() {  # on any failure after the state folder exists: show the logs, stop what we started
    for f in "$state"/log/* "$state"/munge/*.log; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }
    done
    "$here/slurm_down.sh" >&2
}

[ "$(id -u)" = 0 ] || die "run me as root (the daemons and the job steps run as root)"

# --- already up? ------------------------------------------------------------------------------
if [ -e "$marker" ]; then
    if "$here/slurm_down.sh" --check 2>/dev/null; then
        say "already up (state in $state); '. $state/env' to use it"
        exit 0
    fi
    say "a half-started cluster is recorded in $state: stopping it first"
    "$here/slurm_down.sh"
elif [ -e "$state" ] && [ -n "$(ls -A "$state")" ]; then
    die "$state exists and was not made by this script: set LINREG_SLURM_STATE to another folder"
fi

for port in $((ctld_port)) $((ctld_port + 1)) $((ctld_port + 2)) $((ctld_port + 3)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "port $port on 127.0.0.1 is taken: is another Slurm running? (LINREG_SLURM_PORT moves ours)"
    fi
done

# --- packages ---------------------------------------------------------------------------------
started=$(date +%s.%N)
packages=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # service start-up during install is refused by policy-rc.d in containers: expected, and we
    # start the daemons ourselves below
    apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}" >"$1" 2>&1; }
    log=$(mktemp)
    if ! apt_install "$log"; then
        apt-get update -q >>"$log" 2>&1 || true
        apt_install "$log" || { tail -20 "$log" >&2; die "apt-get install failed (log above)"; }
    fi
    rm -f "$log"
fi

# --- the state folder -------------------------------------------------------------------------
mkdir -p "$state"
touch "$marker"
trap 'failed' EXIT
mkdir -p "$state"/{etc,log,run,pids,ctld,slurmd,munge,mysql,mysqld}
chmod 755 "$state"
chown munge:munge "$state/munge"
chmod 755 "$state/munge"   # munged wants its socket's folder reachable by all
chown mysql:mysql "$state/mysql" "$state/mysqld"

node=$(hostname -s)
read -r cpus memory < <(slurmd -C | awk '/^NodeName/ {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    print v["CPUs"], int(v["RealMemory"] * 0.9) }')
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
munge_socket=$state/munge/munge.socket.2
mysql_socket=$state/mysqld/mysqld.sock

cat >"$state/etc/slurm.conf" <<EOF
# written by scripts/slurm_up.sh; removed by scripts/slurm_down.sh
ClusterName=linreg
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/run/slurmctld.pid
SlurmdPidFile=$state/run/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
# no cgroups in a container
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# SIGTERM -> SIGKILL after 5 s at a time limit or scancel (default 30 s)
KillWait=5
# a batch job starts in ~1 s instead of 2-3 s
SchedulerParameters=batch_sched_delay=0
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((ctld_port + 2))
# the MUNGE socket for talking to slurmdbd (AuthInfo covers the rest)
AccountingStoragePass=$munge_socket
JobAcctGatherType=jobacct_gather/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

cat >"$state/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
AuthInfo=socket=$munge_socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((ctld_port + 2))
SlurmUser=root
LogFile=$state/log/slurmdbd.log
PidFile=$state/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((ctld_port + 3))
StorageUser=slurm
StoragePass=$password
StorageLoc=slurm_acct_db
EOF
chmod 600 "$state/etc/slurmdbd.conf"   # slurmdbd refuses a readable one (it holds a password)

cat >"$state/env" <<EOF
# . this file to talk to the cluster of scripts/slurm_up.sh
export SLURM_CONF=$state/etc/slurm.conf
EOF
export SLURM_CONF=$state/etc/slurm.conf

# --- daemons: each in its own session, its pid and start time recorded -------------------------
start() {  # start NAME COMMAND...: run it in the background, remember exactly that process
    local name=$1; shift
    setsid "$@" </dev/null >"$state/log/$name.out" 2>&1 &
    local pid=$!
    echo "$pid $(awk '{print $22}' "/proc/$pid/stat")" >"$state/pids/$name"
}
wait_for() {  # wait_for SECONDS WHAT COMMAND...: poll until COMMAND succeeds
    local seconds=$1 what=$2; shift 2
    local until=$(($(date +%s) + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$until" ] || die "$what did not come up in ${seconds}s (logs in $state/log)"
        sleep 0.2
    done
}

setpriv --reuid=munge --regid=munge --init-groups mungekey --create --keyfile="$state/munge/munge.key"
start munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
    --key-file="$state/munge/munge.key" --socket="$munge_socket" --pid-file="$state/munge/munged.pid" \
    --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed"

mariadb-install-db --no-defaults --user=mysql --datadir="$state/mysql" --skip-test-db \
    --auth-root-authentication-method=socket >"$state/log/mariadb-install-db.out" 2>&1 \
    || die "mariadb-install-db failed (see $state/log/mariadb-install-db.out)"
start mariadbd /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$state/mysql" \
    --socket="$mysql_socket" --pid-file="$state/mysqld/mariadbd.pid" --port=$((ctld_port + 3)) \
    --bind-address=127.0.0.1 --innodb-buffer-pool-size=512M --innodb-lock-wait-timeout=900 \
    --log-error="$state/log/mariadbd.log"

wait_for 20 munged munge -n -S "$munge_socket"
wait_for 30 MariaDB mariadb-admin --no-defaults --socket="$mysql_socket" -u root ping
mariadb --no-defaults --socket="$mysql_socket" -u root <<EOF
CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER 'slurm'@'localhost' IDENTIFIED BY '$password';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF

start slurmdbd /usr/sbin/slurmdbd -D
wait_for 30 slurmdbd bash -c "exec 3<>/dev/tcp/127.0.0.1/$((ctld_port + 2))"
start slurmctld /usr/sbin/slurmctld -D -f "$SLURM_CONF"
wait_for 30 slurmctld scontrol ping
start slurmd /usr/sbin/slurmd -D -f "$SLURM_CONF" -N "$node"
wait_for 30 "an idle node" bash -c '[ "$(sinfo -h -o %T)" = idle ]'
wait_for 30 "sacct" sacct -n -X

took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
say "up in ${took}s: node $node, $cpus CPUs, partition debug (state in $state)"
say "use it with: . $state/env"
trap - EXIT

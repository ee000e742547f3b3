#!/usr/bin/env bash
# End-to-end test of the SLURM profile on a real, single-node SLURM cluster.
#
#   tests/slurm/run.sh            (as root; .ci/run calls it after `make test`)
#
# 1. installs Debian's slurmctld, slurmd, slurmdbd, munge and mariadb-server
#    (when missing) and the pinned snakemake-executor-plugin-slurm
#    (tests/slurm/requirements.txt) into the project's venv;
# 2. starts a private cluster under a temporary directory, on 127.0.0.1 and
#    free ports: munged (own key and socket), MariaDB (own data directory),
#    slurmdbd (accounting: the executor plugin learns job states from sacct),
#    slurmctld and slurmd (ProctrackType=proctrack/linuxproc,
#    TaskPlugin=task/none); nothing under /etc is changed;
# 3. runs the bundled example locally (`snakemake --cores 2`) and under SLURM
#    (`snakemake --profile profiles/slurm`) in two fresh copies of the
#    workflow; the SLURM run also holds one extra job (a test-only rule added
#    to the copy) that outlives its 1-minute time limit on its first attempt,
#    is killed by slurmctld (state TIMEOUT) and succeeds on the profile's retry;
# 4. checks that every output of the local run exists in the SLURM run, that
#    results/restoration/*/summary.tsv and the normalized matrix are
#    byte-identical, that every workflow job went through sbatch (sacct) and
#    that the probe job was TIMEOUT once, then COMPLETED;
# 5. tears the cluster down (trap on exit).
#
# Exit status: 0 = passed, or SKIPPED (printed, with the reason) where the
# cluster cannot be set up here (not root, no apt/packages, daemons that do
# not start); non-zero = a real failure.  Hard limit: SLURM_TEST_TIMEOUT
# seconds (default 1200) for the whole script.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/tests/slurm"
VENV_BIN="${SIGRESTORE_VENV_BIN:-$REPO/.venv/bin}"
LIMIT="${SLURM_TEST_TIMEOUT:-1200}"

# The hard time limit: re-run this script under timeout(1).
if [[ -z "${SIGRESTORE_SLURM_TEST_CHILD:-}" ]]; then
    export SIGRESTORE_SLURM_TEST_CHILD=1
    start=$(date +%s)
    set +e
    timeout --signal=TERM --kill-after=30 "$LIMIT" bash "${BASH_SOURCE[0]}" "$@"
    rc=$?
    set -e
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        echo "FAILED: SLURM test exceeded its ${LIMIT} s time limit" >&2
    fi
    echo "SLURM test: exit $rc after $(($(date +%s) - start)) s"
    exit $rc
fi

log() { echo "[slurm-test $(date +%T)] $*"; }
skip() {
    echo "SKIPPED: SLURM test: $*"
    exit 0
}
fail() {
    echo "FAILED: SLURM test: $*" >&2
    exit 1
}

W="$(mktemp -d /tmp/sigrestore-slurm.XXXXXX)"
PIDS=()
teardown() {
    local rc=$?
    set +e
    if [[ -n "${SLURM_CONF:-}" && -f "$SLURM_CONF" ]]; then
        scancel --full --quiet --user="$(id -un)" >/dev/null 2>&1
    fi
    # Stop what this script started, by pid, newest first.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill "${PIDS[i]}" 2>/dev/null
    done
    for pidfile in "$W"/run/*.pid; do
        [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        for _ in $(seq 30); do
            kill -0 "${PIDS[i]}" 2>/dev/null || break
            sleep 0.5
        done
        kill -9 "${PIDS[i]}" 2>/dev/null && wait "${PIDS[i]}" 2>/dev/null
    done
    if [[ $rc -ne 0 && -d "$W/run" ]]; then
        for f in "$W"/run/*.log; do
            echo "----- $(basename "$f") (last 15 lines)"
            tail -n 15 "$f"
        done
    fi
    [[ -n "${ETC_CONF_OURS:-}" ]] && rm -f /etc/slurm/slurm.conf
    if [[ -z "${SLURM_TEST_KEEP:-}" ]]; then rm -rf "$W"; else echo "kept $W"; fi
    exit $rc
}
trap teardown EXIT
trap 'exit 143' TERM INT

# --------------------------------------------------------------- prerequisites
[[ $(id -u) -eq 0 ]] || skip "needs root to run the SLURM daemons (running as $(id -un))"
[[ -e /etc/slurm/slurm.conf ]] &&
    skip "/etc/slurm/slurm.conf exists: this machine has its own SLURM set-up, not replacing it"
[[ -x "$VENV_BIN/snakemake" ]] || fail "no snakemake in $VENV_BIN (run make test first)"

PACKAGES=(slurmctld slurmd slurmdbd slurm-client munge mariadb-server)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || skip "no apt-get to install ${missing[*]}"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    ok=""
    for attempt in 1 2 3 4 5; do # another process may hold the dpkg lock
        if apt-get install -y -q "${missing[@]}" >"$W/apt.log" 2>&1; then
            ok=1
            break
        fi
        apt-get update -q >>"$W/apt.log" 2>&1 || true
        sleep 15
    done
    [[ -n "$ok" ]] || skip "cannot install ${missing[*]}: $(tail -n 2 "$W/apt.log" | tr '\n' ' ')"
fi
log "installing the executor plugin ($(grep -v '^#' "$HERE/requirements.txt" | tr '\n' ' '))"
"$VENV_BIN/python" -m pip install --quiet -r "$HERE/requirements.txt" >"$W/pip.log" 2>&1 ||
    skip "cannot install the executor plugin: $(grep -v WARNING "$W/pip.log" | tail -n 2 | tr '\n' ' ')"

# --------------------------------------------------------------- the cluster
mkdir -p "$W/run" "$W/state" "$W/spool" "$W/db"
free_port() { "$VENV_BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
DBD_PORT=$(free_port)
DB_PORT=$(free_port)
NCPU=4 # the profile's largest cpus_per_task (rma); SlurmdParameters=config_overrides lets it exceed the cores
MEM_MB=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))

# munge: Slurm's clients (sacctmgr among them) only use munged's default
# socket, so an already running munged is used as it is; otherwise one with
# its own key is started on that socket (and stopped at the end).
if ! (munge -n 2>/dev/null | unmunge >/dev/null 2>&1); then
    dd if=/dev/urandom of="$W/run/munge.key" bs=1024 count=1 status=none
    chmod 600 "$W/run/munge.key"
    mkdir -p /run/munge
    /usr/sbin/munged --force --key-file="$W/run/munge.key" \
        --pid-file="$W/run/munged.pid" --log-file="$W/run/munged.log" \
        --seed-file="$W/run/munge.seed" >"$W/run/munged.out" 2>&1 ||
        skip "munged does not start: $(tail -n 2 "$W/run/munged.log" "$W/run/munged.out" 2>/dev/null | tr '\n' ' ')"
fi
munge -n | unmunge >/dev/null || skip "munge credentials do not round-trip"

# MariaDB for slurmdbd
mariadb-install-db --user=root --datadir="$W/db" --auth-root-authentication-method=socket \
    --skip-test-db >"$W/run/mariadb-install.log" 2>&1 || skip "mariadb-install-db failed"
/usr/sbin/mariadbd --no-defaults --user=root --datadir="$W/db" --socket="$W/run/mysql.sock" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --pid-file="$W/run/mariadb.pid" \
    --log-error="$W/run/mariadb.log" --innodb-buffer-pool-size=64M &
PIDS+=($!)
for _ in $(seq 60); do
    mariadb --socket="$W/run/mysql.sock" -e 'select 1' >/dev/null 2>&1 && break
    sleep 1
done
mariadb --socket="$W/run/mysql.sock" -e "
    CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmtest';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" >/dev/null 2>&1 ||
    skip "MariaDB does not start: $(tail -n 3 "$W/run/mariadb.log" | tr '\n' ' ')"

cat >"$W/slurm.conf" <<EOF
ClusterName=sigrestore
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool
SlurmctldPidFile=$W/run/slurmctld.pid
SlurmdPidFile=$W/run/slurmd.pid
SlurmctldLogFile=$W/run/slurmctld.log
SlurmdLogFile=$W/run/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=600
OverTimeLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM_MB State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$W/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$W/run/slurmdbd.pid
LogFile=$W/run/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurmtest
StorageLoc=slurm_acct_db
EOF
chmod 600 "$W/slurmdbd.conf"
export SLURM_CONF="$W/slurm.conf" # read by the daemons, sbatch, sacct, ... (and slurmdbd.conf next to it)
# The executor plugin's job step (snakemake-executor-plugin-slurm-jobstep)
# drops SLURM_CONF before its nested srun, which then finds no configuration
# unless it is at the default path: put ours there for the test's duration
# (never replacing a configuration that exists: that machine has a cluster).
mkdir -p /etc/slurm
cp "$W/slurm.conf" /etc/slurm/slurm.conf
ETC_CONF_OURS=1

/usr/sbin/slurmdbd -D >"$W/run/slurmdbd.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 60); do
    timeout 15 sacctmgr -n list cluster >/dev/null 2>&1 && break
    sleep 1
done
timeout 15 sacctmgr -i add cluster sigrestore >/dev/null 2>&1 || true
timeout 15 sacctmgr -i add account sigrestore Description=test Organization=test >/dev/null 2>&1 || true
timeout 15 sacctmgr -i add user "$(id -un)" Account=sigrestore DefaultAccount=sigrestore >/dev/null 2>&1 || true
timeout 15 sacctmgr -n list user "$(id -un)" format=defaultaccount | grep -q sigrestore ||
    skip "slurmdbd does not start: $(tail -n 3 "$W/run/slurmdbd.log" "$W/run/slurmdbd.out" 2>/dev/null | tr '\n' ' ')"

/usr/sbin/slurmctld -D -i >"$W/run/slurmctld.out" 2>&1 &
PIDS+=($!)
/usr/sbin/slurmd -D -N localhost >"$W/run/slurmd.out" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 60); do
    state=$(timeout 15 sinfo -h -N -o '%T' 2>/dev/null | head -n 1)
    [[ "$state" == idle* ]] && break
    sleep 1
done
[[ "$state" == idle* ]] ||
    skip "slurmctld/slurmd do not start (node state '${state:-none}'): $(tail -n 3 "$W/run/slurmctld.log" "$W/run/slurmd.log" 2>/dev/null | tr '\n' ' ')"

# Smoke test: a job runs, and accounting reports its end.
smoke=$(sbatch --parsable -t 1 -o "$W/run/smoke.out" --wrap 'echo smoke-ok')
done_state=""
for _ in $(seq 60); do
    done_state=$(timeout 15 sacct -n -X -P -j "$smoke" -o State 2>/dev/null | head -n 1)
    [[ "$done_state" == COMPLETED ]] && break
    sleep 1
done
[[ "$done_state" == COMPLETED ]] ||
    skip "a plain sbatch job does not complete on this machine (sacct state '${done_state:-none}')"
log "cluster up: $(timeout 15 sinfo -h -o '%P %D nodes %c CPUs %T') ; sbatch + sacct work"

# --------------------------------------------------------------- the runs
copy_workflow() {
    mkdir -p "$1"
    for name in Snakefile workflow config envs profiles; do
        cp -r "$REPO/$name" "$1/$name"
    done
    find "$1" -name __pycache__ -prune -exec rm -rf {} +
}
export PATH="$VENV_BIN:$PATH" OPENBLAS_NUM_THREADS=1

log "local run of the bundled example"
copy_workflow "$W/local"
# Long commands run in the background and are waited for, so that the time
# limit's TERM reaches the trap (and the teardown) at once.
(cd "$W/local" && exec snakemake --cores 2 >"$W/run/local.log" 2>&1) &
PIDS+=($!)
wait $! || {
    tail -n 30 "$W/run/local.log"
    fail "the local run failed"
}

log "SLURM run: snakemake --profile profiles/slurm"
copy_workflow "$W/slurm"
# The time-limit probe: a test-only rule (not part of the workflow) whose
# first attempt sleeps past its 1-minute limit; the retry has 5 minutes.
cat >>"$W/slurm/Snakefile" <<'EOF'


rule slurm_timelimit_probe:
    output:
        "results/slurm_timelimit_probe.txt",
    resources:
        runtime=lambda wildcards, attempt: 1 if attempt == 1 else 5,
        sleep_s=lambda wildcards, attempt: 150 if attempt == 1 else 1,
        mem_mb=200,
    shell:
        "sleep {resources.sleep_s} && echo attempt-ok > {output}"
EOF
t0=$(date +%s)
(
    cd "$W/slurm" &&
        exec snakemake --profile profiles/slurm \
            --slurm-init-seconds-before-status-checks 5 --latency-wait 10 \
            all results/slurm_timelimit_probe.txt >"$W/run/slurm-snakemake.log" 2>&1
) &
PIDS+=($!)
wait $! || {
    tail -n 40 "$W/run/slurm-snakemake.log"
    fail "the SLURM run failed"
}
log "SLURM run finished in $(($(date +%s) - t0)) s"

# --------------------------------------------------------------- checks
"$VENV_BIN/python" "$HERE/check.py" "$W/local" "$W/slurm" "$W/run/slurm-snakemake.log" ||
    fail "outputs differ (see above)"
log "PASSED"

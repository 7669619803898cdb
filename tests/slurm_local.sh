# tests/slurm_local.sh: a private, localhost Slurm (munged + slurmctld + slurmd) for the
# tests, sourced by a bash test script.
#
#   . tests/slurm_local.sh
#   slurm_local_available || exit 77          # prints why not
#   dir=$(mktemp -d); trap 'slurm_local_stop; rm -rf "$dir"' EXIT
#   slurm_local_start "$dir" "kinda,kindb"    # exports SLURM_CONF; node idle on return
#   (SLURM_LOCAL_EXTRA_CONF, if set, is appended to slurm.conf: more partitions, say)
#   sbatch ...; squeue ...
#   slurm_local_stop                          # safe twice, safe from a trap
#
# Everything (munge key, socket, pid, seed and log files; slurm.conf, state, spool, pid and
# log files) lives under DIR, and every client gets DIR's config through SLURM_CONF and
# DIR's munge socket through AuthInfo, so a system-wide Slurm or munge (/etc/slurm,
# /etc/munge, /run/munge, /var/spool/slurm*) is neither read nor touched. No systemd, no
# cgroups: proctrack/linuxproc and task/none.
#
# Globals (read-only for callers): SLURM_LOCAL_DIR, SLURM_LOCAL_NODE (this host's short
# name), SLURM_LOCAL_NODE_NAMES (the Slurm node names), SLURM_LOCAL_PIDS (munged slurmctld
# slurmd...), SLURM_LOCAL_CTLD_PORT, SLURM_LOCAL_SLURMD_PORT, SLURM_LOCAL_NODE_PORTS.
# Inputs: SLURM_LOCAL_NODES="n1=kinda n2=kindb" (several nodes on this host, see below) and
# SLURM_LOCAL_EXTRA_CONF (lines appended to slurm.conf).

SLURM_LOCAL_DIR=${SLURM_LOCAL_DIR:-}
SLURM_LOCAL_PIDS=${SLURM_LOCAL_PIDS:-}

slurm_local_available() {
    local p
    for p in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo setpriv; do
        if ! command -v "$p" >/dev/null 2>&1; then
            echo "slurm_local: $p is not installed (Debian: apt-get install slurm-wlm munge)"
            return 1
        fi
    done
    if [ "$(id -u)" != 0 ]; then
        echo "slurm_local: needs root (slurmd runs jobs as their users; munged is started as munge)"
        return 1
    fi
    if ! id munge >/dev/null 2>&1; then
        echo "slurm_local: no munge user (the munge package creates it)"
        return 1
    fi
    return 0
}

# Listening TCP ports, decimal, one a line, from /proc (no ss/netstat needed).
_slurm_local_busy_ports() {
    local f
    for f in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$f" ] || continue
        # field 2 is ADDR:PORT in hex; a port in use in any state is avoided
        awk 'NR > 1 { split($2, a, ":"); print a[2] }' "$f"
    done | while read -r hex; do echo $((16#$hex)); done | sort -u
}

# A free TCP port in 20000-59999 that is not in the busy list nor in "$1" (space-separated).
_slurm_local_free_port() {
    local avoid=" $1 " busy port i
    busy=" $(_slurm_local_busy_ports | tr '\n' ' ') "
    for i in $(seq 1 200); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        case "$busy$avoid" in *" $port "*) continue ;; esac
        echo "$port"
        return 0
    done
    return 1
}

_slurm_local_tails() {
    local f
    for f in "$SLURM_LOCAL_DIR"/munge/munged.stderr "$SLURM_LOCAL_DIR"/log/slurmctld.log \
             "$SLURM_LOCAL_DIR"/log/slurmd*.log "$SLURM_LOCAL_DIR"/log/*.out; do
        [ -f "$f" ] || continue
        echo "---- tail of $f"
        tail -n 25 "$f"
    done
}

# SLURM_LOCAL_NODES="n1=kinda n2=kindb,x": several nodes on this host, one slurmd each (slurmd
# -N NAME, its own Port), each with its own features and nproc/N CPUs (at least 1). Lets a
# test give each "machine kind" its own node, so --exclusive tasks still run side by side.
_slurm_local_node_lines() {
    local cpus=$1 mem=$2 n=0 e name feat port
    for e in $SLURM_LOCAL_NODES; do n=$((n + 1)); done
    cpus=$((cpus / n)); [ "$cpus" -ge 1 ] || cpus=1
    mem=$((mem / n))
    set -- $SLURM_LOCAL_NODE_PORTS
    for e in $SLURM_LOCAL_NODES; do
        name=${e%%=*}; feat=""; [ "$name" != "$e" ] && feat=${e#*=}
        port=$1; shift
        echo "NodeName=$name NodeHostname=$SLURM_LOCAL_NODE NodeAddr=127.0.0.1 Port=$port CPUs=$cpus RealMemory=$mem${feat:+ Features=$feat} State=UNKNOWN"
    done
}

_slurm_local_write_conf() {
    local d=$1 features=$2 cpus mem
    cpus=$(nproc)
    mem=$(awk '/^MemTotal:/ { m = int($2 / 1024 / 4); if (m > 2048) m = 2048; print m }' /proc/meminfo)
    {
        echo "# written by tests/slurm_local.sh: a private cluster, everything under $d"
        echo "ClusterName=sblocal"
        echo "SlurmctldHost=$SLURM_LOCAL_NODE"
        echo "SlurmctldPort=$SLURM_LOCAL_CTLD_PORT"
        echo "SlurmdPort=$SLURM_LOCAL_SLURMD_PORT"
        echo "SlurmUser=root"
        echo "SlurmdUser=root"
        echo "AuthType=auth/munge"
        echo "CredType=cred/munge"
        echo "AuthInfo=socket=$d/munge/munge.socket"
        echo "ProctrackType=proctrack/linuxproc"
        echo "TaskPlugin=task/none"
        echo "SelectType=select/cons_tres"
        echo "SelectTypeParameters=CR_Core"
        echo "AccountingStorageType=accounting_storage/none"
        echo "JobAcctGatherType=jobacct_gather/none"
        echo "JobCompType=jobcomp/none"
        echo "MpiDefault=none"
        echo "MailProg=/bin/true"
        echo "ReturnToService=2"
        echo "MinJobAge=600"
        echo "KillWait=5"
        echo "StateSaveLocation=$d/state"
        echo "SlurmdSpoolDir=$d/spool/%n"
        echo "SlurmctldPidFile=$d/run/slurmctld.pid"
        echo "SlurmdPidFile=$d/run/slurmd${SLURM_LOCAL_NODES:+.%n}.pid"
        echo "SlurmctldLogFile=$d/log/slurmctld.log"
        echo "SlurmdLogFile=$d/log/slurmd${SLURM_LOCAL_NODES:+.%n}.log"
        echo "SlurmctldDebug=info"
        echo "SlurmdDebug=info"
        if [ -z "${SLURM_LOCAL_NODES:-}" ]; then
            echo "NodeName=$SLURM_LOCAL_NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem${features:+ Features=$features} State=UNKNOWN"
        else
            _slurm_local_node_lines "$cpus" "$mem"
        fi
        echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
        # e.g. a second partition on the same node: "PartitionName=other Nodes=ALL State=UP"
        [ -n "${SLURM_LOCAL_EXTRA_CONF:-}" ] && printf '%s\n' "$SLURM_LOCAL_EXTRA_CONF"
    } >"$d/slurm.conf"
}

# munged as the munge user with its own key, socket, pid, seed and log under DIR/munge.
# munged checks every directory on the way to its key, socket, log, pid and seed files: each
# must be owned by root or munge and not writable by group/other (sticky /tmp passes), and
# the munge user must be able to traverse them, so DIR becomes 0755 (mktemp -d makes 0700)
# and DIR/munge is munge:munge 0711 (clients must reach the socket in it; the key stays 0600).
# No --force is needed.
_slurm_local_start_munge() {
    local d=$1 m=$1/munge i
    chmod 0755 "$d"
    mkdir -p "$m"
    chown munge:munge "$m"
    chmod 0711 "$m"          # munged: "execute permissions for all required" on the socket dir
    if command -v mungekey >/dev/null 2>&1; then
        setpriv --reuid=munge --regid=munge --init-groups mungekey --create --keyfile="$m/munge.key" --bits=1024 || return 1
    else
        dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none || return 1
        chown munge:munge "$m/munge.key"
    fi
    chmod 0600 "$m/munge.key"
    # -F: stay in the foreground so $! is munged's own pid (setpriv execs, no fork);
    # SBSL_OWNER marks the process so slurm_local_stop can find what it started.
    SBSL_OWNER="$d" setpriv --reuid=munge --regid=munge --init-groups \
        munged -F --socket="$m/munge.socket" --key-file="$m/munge.key" \
        --pid-file="$m/munged.pid" --log-file="$m/munged.log" --seed-file="$m/munged.seed" \
        </dev/null >>"$m/munged.stderr" 2>&1 &
    SLURM_LOCAL_PIDS="$!"
    for i in $(seq 1 50); do
        [ -S "$m/munge.socket" ] && return 0
        kill -0 "${SLURM_LOCAL_PIDS%% *}" 2>/dev/null || break
        sleep 0.2
    done
    echo "slurm_local: munged did not come up"
    cat "$m/munged.stderr" 2>/dev/null
    return 1
}

slurm_local_start() {
    local d=$1 features=${2:-} i p state
    if [ -z "$d" ] || [ ! -d "$d" ]; then
        echo "slurm_local_start: DIR must be an existing folder"
        return 2
    fi
    if [ -n "$SLURM_LOCAL_PIDS" ]; then
        echo "slurm_local_start: a cluster is already running (pids $SLURM_LOCAL_PIDS)"
        return 2
    fi
    d=$(cd "$d" && pwd -P)
    # munged's socket and slurmstepd's step sockets (SPOOL/NODE/NODE_JOB.STEP) live under
    # DIR, and a unix socket path holds at most 107 bytes
    if [ "${#d}" -gt 64 ]; then
        echo "slurm_local_start: $d is too long (${#d} > 64 bytes) for the unix sockets under it; use mktemp -d"
        return 2
    fi
    SLURM_LOCAL_DIR=$d
    SLURM_LOCAL_NODE=$(hostname -s)
    mkdir -p "$d/state" "$d/spool" "$d/run" "$d/log"
    _slurm_local_start_munge "$d" || { _slurm_local_tails; slurm_local_stop; return 1; }
    SLURM_LOCAL_CTLD_PORT=$(_slurm_local_free_port "") &&
        SLURM_LOCAL_SLURMD_PORT=$(_slurm_local_free_port "$SLURM_LOCAL_CTLD_PORT") ||
        { echo "slurm_local: no free TCP port found"; slurm_local_stop; return 1; }
    SLURM_LOCAL_NODE_NAMES=$SLURM_LOCAL_NODE
    SLURM_LOCAL_NODE_PORTS=$SLURM_LOCAL_SLURMD_PORT
    if [ -n "${SLURM_LOCAL_NODES:-}" ]; then
        SLURM_LOCAL_NODE_NAMES=""
        for i in $SLURM_LOCAL_NODES; do
            SLURM_LOCAL_NODE_NAMES="$SLURM_LOCAL_NODE_NAMES ${i%%=*}"
        done
        SLURM_LOCAL_NODE_NAMES=${SLURM_LOCAL_NODE_NAMES# }
        SLURM_LOCAL_NODE_PORTS=""
        for i in $SLURM_LOCAL_NODE_NAMES; do
            SLURM_LOCAL_NODE_PORTS="$SLURM_LOCAL_NODE_PORTS $(_slurm_local_free_port "$SLURM_LOCAL_CTLD_PORT $SLURM_LOCAL_SLURMD_PORT $SLURM_LOCAL_NODE_PORTS")" ||
                { echo "slurm_local: no free TCP port found"; slurm_local_stop; return 1; }
        done
    fi
    _slurm_local_write_conf "$d" "$features"
    export SLURM_CONF=$d/slurm.conf
    # Foreground (-D) in the background: $! is the daemon's pid, no pid-file race.
    SBSL_OWNER="$d" slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$d/log/slurmctld.out" 2>&1 &
    SLURM_LOCAL_PIDS="$SLURM_LOCAL_PIDS $!"
    if [ -z "${SLURM_LOCAL_NODES:-}" ]; then
        SBSL_OWNER="$d" slurmd -D -f "$SLURM_CONF" </dev/null >>"$d/log/slurmd.out" 2>&1 &
        SLURM_LOCAL_PIDS="$SLURM_LOCAL_PIDS $!"
    else
        for i in $SLURM_LOCAL_NODE_NAMES; do
            SBSL_OWNER="$d" slurmd -D -N "$i" -f "$SLURM_CONF" </dev/null >>"$d/log/slurmd.$i.out" 2>&1 &
            SLURM_LOCAL_PIDS="$SLURM_LOCAL_PIDS $!"
        done
    fi
    for i in $(seq 1 60); do
        # one line per node and partition: every one must say idle
        state=$(sinfo -h -N -o '%N %t' 2>/dev/null | sort -u)
        [ -n "$state" ] && ! printf '%s\n' "$state" | grep -qv ' idle$' && return 0
        for p in $SLURM_LOCAL_PIDS; do
            kill -0 "$p" 2>/dev/null || { state="daemon pid $p exited"; break 2; }
        done
        sleep 0.5
    done
    echo "slurm_local: nodes $SLURM_LOCAL_NODE_NAMES not all idle (within 30 s): ${state:-no answer from sinfo}"
    sinfo -N -l 2>&1 | sed 's/^/  /'
    _slurm_local_tails
    slurm_local_stop    # a failed start leaves nothing running, trap or not
    return 1
}

# Every process that carries SBSL_OWNER=DIR (the daemons) or holds a file under DIR open
# (slurmstepd: slurmd double-forks it, so its parent is init, and it overwrites its
# environment with its process title, but it keeps SlurmdLogFile open), and all their
# descendants (the job scripts and their children).
_slurm_local_owned_pids() {
    local d=$1 p f comm ppid seen new line rest
    seen=""
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        # only Slurm's and munge's own processes are looked into (few forks; and a caller
        # that has a file under DIR open is not one of them)
        read -r comm 2>/dev/null <"/proc/$p/comm" || continue
        case "$comm" in munged | slurm*) ;; *) continue ;; esac
        if grep -qzxF "SBSL_OWNER=$d" "/proc/$p/environ" 2>/dev/null; then
            seen="$seen $p"
            continue
        fi
        for f in /proc/"$p"/fd/*; do
            case "$(readlink "$f" 2>/dev/null)" in "$d"/*) seen="$seen $p"; break ;; esac
        done
    done
    # descendants: repeat until no new child of a listed pid appears
    while :; do
        new=""
        for p in /proc/[0-9]*; do
            p=${p#/proc/}
            case " $seen " in *" $p "*) continue ;; esac
            read -r line 2>/dev/null <"/proc/$p/stat" || continue
            rest=${line##*) }          # after the command name, which may hold spaces
            ppid=${rest#* }            # drop the state field
            ppid=${ppid%% *}
            case " $seen " in *" $ppid "*) new="$new $p" ;; esac
        done
        [ -z "$new" ] && break
        seen="$seen$new"
    done
    echo $seen
}

slurm_local_stop() {
    local d=$SLURM_LOCAL_DIR pids p alive i
    [ -n "$d" ] || return 0
    pids="$SLURM_LOCAL_PIDS $(_slurm_local_owned_pids "$d")"
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 1 25); do
        alive=""
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && break
        sleep 0.2
    done
    for p in $alive; do kill -KILL "$p" 2>/dev/null; done
    # reap our own children (the daemons) so no zombie keeps a pid
    for p in $SLURM_LOCAL_PIDS; do wait "$p" 2>/dev/null; done
    SLURM_LOCAL_PIDS=""
    SLURM_LOCAL_DIR=""
    return 0
}

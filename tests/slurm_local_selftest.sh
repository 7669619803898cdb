#!/bin/bash
# tests/slurm_local_selftest.sh: the private localhost Slurm of tests/slurm_local.sh comes up,
# runs a 4-task array at most 2 at a time, refuses an unsatisfiable constraint at submission,
# and leaves no daemon behind; then the same with two nodes (SLURM_LOCAL_NODES) for
# constraints and --exclusive. Exit 0 pass, 1 fail, 77 skip (no Slurm/munge or not root).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/slurm_local.sh"
why=$(slurm_local_available) || { echo "SKIP: $why"; exit 77; }

dir=$(mktemp -d)
trap 'slurm_local_stop; rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# watch_array JOB: polls until no task of the array is left to run (30 s at most); sets maxrun
# (the most tasks seen running at once) and states ("0 COMPLETED 1 COMPLETED ...").
watch_array() {
    local i running left
    maxrun=0
    for i in $(seq 1 120); do
        running=$(squeue -h -r -j "$1" -t RUNNING -o '%i' | wc -l)
        [ "$running" -gt "$maxrun" ] && maxrun=$running
        left=$(squeue -h -r -j "$1" -t PENDING,CONFIGURING,RUNNING,COMPLETING -o '%i' | wc -l)
        [ "$left" -eq 0 ] && break
        sleep 0.25
    done
    states=$(squeue -h -r -j "$1" -t all -o '%K %T' | sort -n | tr '\n' ' ')
}

slurm_local_start "$dir" "kinda,kindb" || { echo "FAIL: cluster did not start"; exit 1; }
pids=$SLURM_LOCAL_PIDS
echo "cluster up: pids $pids, ctld port $SLURM_LOCAL_CTLD_PORT, slurmd port $SLURM_LOCAL_SLURMD_PORT"

# 4 tasks, throttle 2: the node has room for 2 such jobs, so %2 is what limits them.
out=$(sbatch --parsable --array=0-3%2 -o "$dir/task_%a.out" --wrap 'sleep 2; echo done "$SLURM_ARRAY_TASK_ID"') ||
    { echo "FAIL: sbatch: $out"; exit 1; }
job=${out%%;*}
echo "array job $job"
watch_array "$job"
echo "tasks: $states; at most $maxrun running at once"
[ "$states" = "0 COMPLETED 1 COMPLETED 2 COMPLETED 3 COMPLETED " ] || bad "not all 4 tasks COMPLETED: $states"
[ "$maxrun" -le 2 ] || bad "$maxrun tasks ran at once under %2"
[ "$maxrun" -ge 1 ] || bad "no task was ever seen running"
for a in 0 1 2 3; do
    grep -qx "done $a" "$dir/task_$a.out" 2>/dev/null || bad "task $a wrote no output"
done

# an unsatisfiable constraint is refused by sbatch itself, before any job exists
if msg=$(sbatch --constraint=nosuch --wrap true 2>&1); then
    bad "sbatch --constraint=nosuch was accepted: $msg"
else
    echo "refused as expected: $msg"
    case "$msg" in *"Invalid feature specification"*) ;; *) bad "unexpected refusal message: $msg" ;; esac
fi

slurm_local_stop
for p in $pids; do
    kill -0 "$p" 2>/dev/null && bad "daemon pid $p survived slurm_local_stop"
done
slurm_local_stop    # a second call is harmless

# Two nodes on this host (one slurmd each), one feature each: a constraint picks its node,
# and --exclusive tasks of one array still run side by side, one per node.
mkdir "$dir/two"
SLURM_LOCAL_NODES="n1=kinda n2=kindb" slurm_local_start "$dir/two" ||
    { echo "FAIL: two-node cluster did not start"; exit 1; }
pids=$SLURM_LOCAL_PIDS
echo "two-node cluster up: nodes $SLURM_LOCAL_NODE_NAMES, pids $pids"
out=$(sbatch --parsable --constraint=kindb -o "$dir/two/where.out" --wrap 'echo "$SLURMD_NODENAME"') ||
    bad "sbatch --constraint=kindb: $out"
out=$(sbatch --parsable --exclusive --array=0-3%2 -o /dev/null --wrap 'sleep 2') ||
    { echo "FAIL: sbatch: $out"; exit 1; }
job=${out%%;*}
watch_array "$job"
nodes=$(squeue -h -r -j "$job" -t all -o '%N' | sort -u | tr '\n' ' ')
echo "exclusive tasks: $states; on nodes $nodes; at most $maxrun running at once"
[ "$states" = "0 COMPLETED 1 COMPLETED 2 COMPLETED 3 COMPLETED " ] || bad "not all 4 tasks COMPLETED: $states"
[ "$nodes" = "n1 n2 " ] || bad "exclusive tasks did not use both nodes: $nodes"
[ "$maxrun" -le 2 ] || bad "$maxrun tasks ran at once under %2"
where=$(cat "$dir/two/where.out" 2>/dev/null)
[ "$where" = n2 ] || bad "--constraint=kindb ran on '$where', not n2"
# a job still running when the test ends goes too (its slurmstepd is not slurmd's child)
sbatch -o /dev/null --wrap "echo \$\$ > $dir/two/jobpid; sleep 300" >/dev/null
for i in $(seq 1 40); do [ -s "$dir/two/jobpid" ] && break; sleep 0.25; done
jobpid=$(cat "$dir/two/jobpid" 2>/dev/null)
[ -n "$jobpid" ] || bad "the long job never started"
slurm_local_stop
for p in $pids $jobpid; do
    kill -0 "$p" 2>/dev/null && bad "pid $p survived slurm_local_stop"
done

[ "$fail" = 0 ] && echo "PASS"
exit "$fail"

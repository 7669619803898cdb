/* specbias fleet: a suite run across the machines of a Slurm cluster (docs/design.md, Fleet).
 *
 * `fleet submit` writes a fleet folder DIR and submits one job array (one task per machine
 * kind x set) and a gather job that waits for all of it (--dependency=afterany). DIR holds:
 *   fleet.json                 what was submitted (schema specbias-fleet/1, docs/results.md)
 *   task.sh, gather.sh         the batch scripts: each picks the specbias binary built for its
 *                              node's architecture and runs `specbias fleet task|gather DIR`
 *   logs/JOB-TASK.{out,err}    each task's output; logs/gather-JOB.{out,err}
 *   state/JOB-TASK.json        each task's own account: running, done, failed, interrupted,
 *                              no-binary, with its node and reason
 *   tasks/MACHINE/JOB-TASK/    each task's run folder (results.json): the folders of one
 *                              machine kind are one side of `specbias compare`
 *   tasks.json, comparison.{txt,md,json}, report/   written by `fleet gather`
 * A task's state combines its state file with what Slurm says of it while Slurm still lists it
 * (pending and its reason, running, cancelled, timeout, node failure). */
#ifndef SPECBIAS_HARNESS_FLEET_H
#define SPECBIAS_HARNESS_FLEET_H

#include <jansson.h>
#include <stddef.h>

/* Runs argv (argv[0] looked up on PATH) with stdin from /dev/null and waits. Its stdout and
 * stderr come back in *out and *err (malloc'd, NUL-terminated, NULL for an unwanted one).
 * Returns its exit code, 128 + the signal that ended it, or -1 when it could not be started
 * (the reason in *err when err is wanted). */
int sb_fleet_exec(const char *const *argv, char **out, char **err);

/* o's string member key, or "" when it is absent or not a string. */
const char *sb_fleet_str(const json_t *o, const char *key);

/* The first line of text without its newline, in buf (a message of sbatch or scontrol). */
void sb_fleet_first_line(const char *text, char *buf, size_t len);

/* DIR/fleet.json, checked enough for status, gather and task to rely on its fields. Returns
 * the document, or NULL with the reason in err. */
json_t *sb_fleet_load(const char *dir, char *err, size_t errlen);

/* Every task's state (fleet_state.c): an array of {index, machine, set, job, node, state,
 * slurm_state, reason, results} in task order, from the state files and `squeue`. state is
 * one of pending, running, done, failed, interrupted, cancelled, timeout, no-binary, unknown.
 * *slurm_ok is 0 when squeue could not be asked (its reason in slurm_note). */
json_t *sb_fleet_states(const json_t *fleet, const char *dir, int *slurm_ok, char *slurm_note,
                        size_t notelen);

/* The states as a text table, and the counts line ("3 done, 1 failed, 2 pending"). */
void sb_fleet_print_states(const json_t *states, FILE *f);
void sb_fleet_counts(const json_t *states, char *buf, size_t len);

int sb_fleet_submit(int argc, char **argv);
int sb_fleet_status(int argc, char **argv);
int sb_fleet_gather(int argc, char **argv);
int sb_fleet_task(int argc, char **argv);

#endif

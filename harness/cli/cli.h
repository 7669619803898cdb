/* The specbias commands: exit codes, the command table main() dispatches by, and each
 * command's entry points (docs/design.md, Errors and exit codes). */
#ifndef SPECBIAS_HARNESS_CLI_H
#define SPECBIAS_HARNESS_CLI_H

#include <stddef.h>
#include <stdio.h>

enum sb_exit {
    SB_EXIT_OK = 0,
    SB_EXIT_REGRESSION = 1, /* compare found a regression */
    SB_EXIT_USAGE = 2,      /* bad usage or bad input */
    SB_EXIT_FAILED = 3,     /* a run failed: divergence, I/O */
    SB_EXIT_INCONCLUSIVE = 4 /* compare could not decide: too few repetitions, runs that are
                                not comparable (no regression found either) */
};

/* Build facts, baked in by CMakeLists.txt. */
struct sb_build_info {
    const char *version, *git_commit, *compiler, *build_type, *flags;
};
const struct sb_build_info *sb_build_info(void);

/* The command table (commands.c): main() dispatches by it, the top-level help lists it, and a
 * mistyped command gets the closest name suggested. */
struct sb_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command's name; returns an sb_exit */
    const char *summary;
};
extern const struct sb_command sb_commands[];
extern const size_t sb_ncommands;
/* The command named name, or NULL. */
const struct sb_command *sb_command_find(const char *name);
/* The command whose name is closest to a mistyped one, or NULL when none is close. */
const struct sb_command *sb_command_suggest(const char *name);
/* The top-level help: every command with its summary. */
void sb_usage(FILE *f);

int sb_cmd_info(int argc, char **argv);
int sb_cmd_run(int argc, char **argv);
int sb_cmd_kernels(int argc, char **argv);
int sb_cmd_compare(int argc, char **argv);
int sb_cmd_report(int argc, char **argv);
int sb_cmd_fleet(int argc, char **argv); /* cmd_fleet.c, fleet.h */

/* Each command's option parsing alone, running nothing (the fuzz target tests/fuzz/fuzz_cli.c):
 * argv as the command gets it (argv[0] the command's name). Returns 0 (parsed), 1 (help
 * printed) or -1 (bad usage, message printed). */
int sb_info_parse_only(int argc, char **argv);
int sb_run_parse_only(int argc, char **argv);
int sb_kernels_parse_only(int argc, char **argv);
int sb_compare_parse_only(int argc, char **argv);
int sb_report_parse_only(int argc, char **argv);

/* `specbias compare`'s input loader over len bytes in memory (results or Google Benchmark
 * JSON), then the gate and the table of that input against itself, printing nothing (the fuzz
 * targets fuzz_results and fuzz_gbench). Returns 0, 2 (bad input) or 3 (out of memory). */
int sb_compare_check_buffer(const void *data, size_t len);

#endif

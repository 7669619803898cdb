/* Exit codes and small helpers shared by the specbias commands (DESIGN.md, Command line). */
#ifndef SPECBIAS_HARNESS_CLI_H
#define SPECBIAS_HARNESS_CLI_H

enum sb_exit {
    SB_EXIT_OK = 0,
    SB_EXIT_REGRESSION = 1, /* compare found a regression */
    SB_EXIT_USAGE = 2,      /* bad usage or bad input */
    SB_EXIT_FAILED = 3      /* a run failed: divergence, I/O */
};

/* Build facts, baked in by CMakeLists.txt. */
struct sb_build_info {
    const char *version, *git_commit, *compiler, *build_type, *flags;
};
const struct sb_build_info *sb_build_info(void);

int sb_cmd_info(int argc, char **argv);
int sb_cmd_run(int argc, char **argv);
int sb_cmd_kernels(int argc, char **argv);
int sb_cmd_compare(int argc, char **argv);
int sb_cmd_report(int argc, char **argv);

#endif

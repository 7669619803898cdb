/* specbias: the command-line entry point. The commands are the table in harness/cli/commands.c;
 * each lives in harness/cli/cmd_<name>.c. */
#include "harness/cli/cli.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        sb_usage(stderr);
        return SB_EXIT_USAGE;
    }
    const char *name = argv[1];
    const struct sb_command *cmd = sb_command_find(name);
    if (cmd) return cmd->run(argc - 1, argv + 1);
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        sb_usage(stdout);
        return SB_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("specbias %s (%s)\n", sb_build_info()->version, sb_build_info()->git_commit);
        return SB_EXIT_OK;
    }
    const struct sb_command *close = sb_command_suggest(name);
    if (close) {
        fprintf(stderr, "specbias: unknown command '%s'; did you mean '%s'?\n", name, close->name);
        return SB_EXIT_USAGE;
    }
    fprintf(stderr, "specbias: unknown command '%s'\n\n", name);
    sb_usage(stderr);
    return SB_EXIT_USAGE;
}

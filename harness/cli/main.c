/* specbias: the command-line entry point. Each command lives in harness/cli/cmd_<name>.c. */
#include "harness/cli/cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: specbias <command> [options]\n"
            "\n"
            "commands:\n"
            "  info [--json] [--isa ISA]   CPU model, ISAs available and chosen, kernels, build\n"
            "  run [--suite NAME|FILE] [--filter REGEX] [--isa ISA] [--threads N]\n"
            "      [--repetitions R] [--seed S] [--steps N] [--out DIR]\n"
            "                              train a suite's experiments, write DIR/results.json\n"
            "                              (specbias run --help for every option)\n"
            "  kernels [--isa ISA|all] [--benchmark_...]\n"
            "                              time every kernel x ISA x shape (Google Benchmark)\n"
            "  compare BASE NEW [MORE...] [--threshold PCT] [--alpha A]\n"
            "          [--format text|markdown|json]\n"
            "                              regression gate of NEW against BASE (exit 1 on a\n"
            "                              regression); 3+ files: a table across machines\n"
            "                              (specbias compare --help for every option)\n"
            "  report RESULTS... [--out DIR] [--history DIR]\n"
            "                              HTML and Markdown report with plots (matplotlib)\n"
            "\n"
            "ISA selection: --isa or the environment variable SPECBIAS_ISA\n"
            "(auto, scalar, avx2, avx512, neon; default auto).\n"
            "exit codes: 0 ok, 1 regression (compare), 2 bad usage or input, 3 run failed\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SB_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "info") == 0) return sb_cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return sb_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "kernels") == 0) return sb_cmd_kernels(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0) return sb_cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return sb_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return SB_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("specbias %s (%s)\n", sb_build_info()->version, sb_build_info()->git_commit);
        return SB_EXIT_OK;
    }
    fprintf(stderr, "specbias: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return SB_EXIT_USAGE;
}

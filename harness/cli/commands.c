/* The command table: what main() dispatches to, the top-level help, "did you mean". */
#include "harness/cli/cli.h"
#include "harness/cli/options.h"
#include "harness/util/util.h"

#include <stdio.h>
#include <string.h>

const struct sb_command sb_commands[] = {
    {"info", sb_cmd_info, "CPU model, ISAs available and chosen, kernels, build"},
    {"run", sb_cmd_run, "train a suite's experiments, write DIR/results.json"},
    {"kernels", sb_cmd_kernels, "time every kernel x ISA x shape (Google Benchmark)"},
    {"compare", sb_cmd_compare,
     "regression gate of NEW against BASE (exit 1 on a regression); 3+ files: a table across "
     "machines"},
    {"report", sb_cmd_report, "HTML and Markdown report with plots (matplotlib)"},
    {"fleet", sb_cmd_fleet,
     "a suite across the machines of a Slurm cluster: submit, status, gather (one comparison)"},
};
const size_t sb_ncommands = sizeof sb_commands / sizeof *sb_commands;

const struct sb_command *sb_command_find(const char *name)
{
    for (size_t i = 0; i < sb_ncommands; i++)
        if (!strcmp(name, sb_commands[i].name)) return &sb_commands[i];
    return NULL;
}

const struct sb_command *sb_command_suggest(const char *name)
{
    const struct sb_command *best = NULL;
    size_t best_d = 3; /* at most two edits ... */
    for (size_t i = 0; i < sb_ncommands; i++) {
        const size_t d = sb_edit_distance(name, sb_commands[i].name);
        if (d < best_d && d < strlen(name)) { /* ... and fewer than the name's letters */
            best_d = d;
            best = &sb_commands[i];
        }
    }
    return best;
}

void sb_usage(FILE *f)
{
    char isas[160] = "";
    size_t n = 0;
    for (const char *const *isa = sb_isa_choices("auto"); *isa && n < sizeof isas; isa++)
        n += (size_t)snprintf(isas + n, sizeof isas - n, "%s%s", n ? ", " : "", *isa);
    fprintf(f, "usage: specbias <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sb_ncommands; i++) {
        fprintf(f, "  %-9s ", sb_commands[i].name);
        sb_help_wrapped(f, sb_commands[i].summary, 12);
    }
    fprintf(f,
            "\n`specbias <command> --help` lists a command's options.\n"
            "ISA selection: --isa or the environment variable SPECBIAS_ISA\n(%s; default auto).\n"
            "exit codes: 0 ok, 1 regression (compare), 2 bad usage or input, 3 run failed\n",
            isas);
}

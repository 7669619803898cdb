/* libFuzzer target: the option parsing of every command, running nothing. The input is an
 * argv, one argument a line (empty lines are empty arguments); the first line names the
 * command as main() sees it. */
#include "harness/cli/cli.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (char *p = text; argc < MAX_ARGS;) {
        argv[argc++] = p;
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    argv[argc] = NULL;
    static const struct {
        const char *name;
        int (*parse)(int, char **);
    } cmds[] = {{"info", sb_info_parse_only},
                {"run", sb_run_parse_only},
                {"kernels", sb_kernels_parse_only},
                {"compare", sb_compare_parse_only},
                {"report", sb_report_parse_only}};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (strcmp(argv[0], cmds[i].name) == 0) {
            cmds[i].parse(argc, argv);
            break;
        }
    free(text);
    return 0;
}

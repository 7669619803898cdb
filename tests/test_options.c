/* The option parser every command uses (harness/cli/options.c) and the command table's "did you
 * mean" (harness/cli/commands.c): values of every type and their ranges, --opt=value and
 * --opt value, positionals and "--", pass-through flags, repeated options, and a --help that
 * lists every option within 100 columns. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness/cli/cli.h"
#include "harness/cli/options.h"
#include "specbias/kernels.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct args {
    int flag, n, mode;
    uint64_t big;
    double x;
    const char *s, *mode_text;
    const char *list_v[16], *pos_v[16], *pass_v[16];
    struct sb_option_list list, pos, pass;
};

static const char *const modes[] = {"fast", "slow", "exact", NULL};
static const char *const gb_prefixes[] = {"--gb_", "--v=", NULL};

static struct sb_command_spec spec(struct args *a, struct sb_option *o, int positionals, int pass)
{
    memset(a, 0, sizeof *a);
    a->list.v = a->list_v;
    a->pos.v = a->pos_v;
    a->pass.v = a->pass_v;
    const struct sb_option opts[] = {
        {SB_FLAG("--flag", &a->flag, "a flag")},
        {SB_INT("--n", &a->n, "N", 1, 1024, "a count")},
        {SB_UINT64("--big", &a->big, "B", 0, 4294967295.0, "a big one")},
        {SB_DOUBLE("--x", &a->x, "X", 0, 1, "a fraction"), .min_open = 1},
        {SB_STRING("--s", &a->s, "S", "a name"), .nonempty = 1},
        {SB_ENUM("--mode", &a->mode, NULL, modes, "one of {choices}"), .what = "mode",
         .text = &a->mode_text},
        {SB_LIST("--item", &a->list, "I", "repeatable")},
    };
    memcpy(o, opts, sizeof opts);
    return (struct sb_command_spec){.name = "test",
                                    .synopsis = positionals ? "FILE..." : NULL,
                                    .options = o,
                                    .noptions = sizeof opts / sizeof *opts,
                                    .positionals = positionals ? &a->pos : NULL,
                                    .pass_prefixes = pass ? gb_prefixes : NULL,
                                    .passed = pass ? &a->pass : NULL};
}

/* Parses the arguments after c, up to NULL, as the command's argv. */
static int parse(struct sb_command_spec *c, ...)
{
    char *argv[32] = {"test"};
    int argc = 1;
    va_list ap;
    va_start(ap, c);
    for (char *arg; argc < 31 && (arg = va_arg(ap, char *));) argv[argc++] = arg;
    va_end(ap);
    return sb_options_parse(c, argc, argv);
}
#define PARSE(cmd, ...) parse(&(cmd), __VA_ARGS__, (char *)NULL)

static void test_values(void **state)
{
    (void)state;
    struct args a;
    struct sb_option o[8];
    struct sb_command_spec c = spec(&a, o, 0, 0);
    assert_int_equal(
        PARSE(c, "--flag", "--n", "7", "--big=4294967295", "--x", "0.5", "--s=a", "--mode", "slow"),
        0);
    assert_int_equal(a.flag, 1);
    assert_int_equal(a.n, 7);
    assert_true(a.big == 4294967295ull);
    assert_true(a.x == 0.5);
    assert_string_equal(a.s, "a");
    assert_int_equal(a.mode, 1);
    assert_string_equal(a.mode_text, "slow");
    /* the last of a repeated option counts; a list keeps them all */
    assert_int_equal(PARSE(c, "--n", "3", "--n=4", "--item", "a", "--item=b"), 0);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.list.n, 2);
    assert_string_equal(a.list.v[1], "b");
    /* a value may start with '-' */
    assert_int_equal(PARSE(c, "--s", "-x"), 0);
    assert_string_equal(a.s, "-x");
}

static void test_bad_values(void **state)
{
    (void)state;
    struct args a;
    struct sb_option o[8];
    struct sb_command_spec c = spec(&a, o, 0, 0);
    static const char *const bad[][2] = {
        {"--n", "0"},   {"--n", "1025"},         {"--n", "two"}, {"--n", "-1"},
        {"--n", ""},    {"--big", "4294967296"}, {"--x", "0"},   {"--x", "1.5"},
        {"--x", "nan"}, {"--x", "1e"},           {"--s", ""},    {"--mode", "quick"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *argv[] = {"test", (char *)bad[i][0], (char *)bad[i][1], NULL};
        if (sb_options_parse(&c, 3, argv) != -1)
            fail_msg("%s '%s' was accepted", bad[i][0], bad[i][1]);
    }
    assert_int_equal(PARSE(c, "--n"), -1);      /* no value */
    assert_int_equal(PARSE(c, "--flag=1"), -1); /* a flag takes none */
    assert_int_equal(PARSE(c, "--bogus"), -1);  /* unknown */
    assert_int_equal(PARSE(c, "file"), -1);     /* no positionals here */
    assert_int_equal(PARSE(c, "--"), -1);
    assert_int_equal(PARSE(c, "--help"), 1);
    assert_int_equal(PARSE(c, "-h"), 1);
}

static void test_positionals_and_passing(void **state)
{
    (void)state;
    struct args a;
    struct sb_option o[8];
    struct sb_command_spec c = spec(&a, o, 1, 1);
    assert_int_equal(PARSE(c, "a", "--n", "2", "-", "--gb_x=1", "--v=2", "--", "--n", "b"), 0);
    assert_int_equal(a.pos.n, 4);
    assert_string_equal(a.pos.v[0], "a");
    assert_string_equal(a.pos.v[1], "-");
    assert_string_equal(a.pos.v[2], "--n");
    assert_int_equal(a.n, 2);
    assert_int_equal(a.pass.n, 2);
    assert_string_equal(a.pass.v[0], "--gb_x=1");
    assert_string_equal(a.pass.v[1], "--v=2");
    assert_int_equal(PARSE(c, "--other"), -1);
    /* the first of a group given, in argv order */
    assert_int_equal(PARSE(c, "--s", "x", "--flag", "--n", "1"), 0);
    static const char *const group[] = {"--n", "--flag", NULL};
    assert_string_equal(sb_options_first_given(&c, group), "--flag");
    static const char *const none[] = {"--x", NULL};
    assert_null(sb_options_first_given(&c, none));
}

static void test_help(void **state)
{
    (void)state;
    struct args a;
    struct sb_option o[8];
    struct sb_command_spec c = spec(&a, o, 1, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sb_options_help(&c, f);
    fclose(f);
    for (size_t i = 0; i < c.noptions; i++)
        if (!strstr(text, o[i].name)) fail_msg("--help lacks %s:\n%s", o[i].name, text);
    assert_non_null(strstr(text, "usage: specbias test FILE... [--flag] [--n N]"));
    assert_non_null(strstr(text, "--mode fast|slow|exact"));
    assert_non_null(strstr(text, "one of fast, slow, exact"));
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        const size_t w = nl ? (size_t)(nl - line) : strlen(line);
        if (w > 100) fail_msg("a help line of %zu columns: %.*s", w, (int)w, line);
    }
    free(text);
}

static void test_isa_choices(void **state)
{
    (void)state;
    const char *const *l = sb_isa_choices("all");
    assert_string_equal(l[0], "all");
    for (int i = 0; i < SB_ISA_COUNT; i++)
        assert_string_equal(l[i + 1], sb_isa_name((enum sb_isa)i));
    assert_null(l[SB_ISA_COUNT + 1]);
    assert_string_equal(sb_isa_choices("auto")[0], "auto");
}

static void test_did_you_mean(void **state)
{
    (void)state;
    static const char *const typo[][2] = {{"rnu", "run"},        {"compre", "compare"},
                                          {"reprot", "report"},  {"inf", "info"},
                                          {"kernel", "kernels"}, {"RUN", "run"}};
    for (size_t i = 0; i < sizeof typo / sizeof *typo; i++) {
        const struct sb_command *c = sb_command_suggest(typo[i][0]);
        if (!c || strcmp(c->name, typo[i][1]))
            fail_msg("'%s': suggested %s, want %s", typo[i][0], c ? c->name : "nothing",
                     typo[i][1]);
    }
    assert_null(sb_command_suggest("nosuchcommand"));
    assert_null(sb_command_suggest("x"));
    assert_null(sb_command_suggest(""));
    for (size_t i = 0; i < sb_ncommands; i++)
        assert_ptr_equal(sb_command_find(sb_commands[i].name), &sb_commands[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_positionals_and_passing),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_isa_choices),
        cmocka_unit_test(test_did_you_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

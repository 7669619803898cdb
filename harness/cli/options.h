/* The option parser of every command. A command declares its options once, in an array of
 * struct sb_option that points into its own arguments struct; sb_options_parse reads argv by
 * it and sb_options_help prints the command's --help from it, so the two cannot disagree.
 *
 * Accepted: --name VALUE and --name=VALUE (VALUE may start with '-'), flags without a value,
 * -h and --help, and positional arguments where the command takes them ("--" ends the
 * options there; "-" alone is a positional, stdin by convention). An option given twice
 * keeps its last value, except a SB_OPT_LIST, which collects every one. A bad value is exit 2
 * with a message naming the option and the value. */
#ifndef SPECBIAS_HARNESS_OPTIONS_H
#define SPECBIAS_HARNESS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sb_option_type {
    SB_OPT_FLAG,   /* no value: *(int *)dest = 1 */
    SB_OPT_STRING, /* *(const char **)dest = the value */
    SB_OPT_INT,    /* *(int *)dest: a whole number in [min, max] */
    SB_OPT_UINT64, /* *(uint64_t *)dest: a whole number in [min, max] */
    SB_OPT_DOUBLE, /* *(double *)dest: a finite number in [min, max], (min, max] if min_open */
    SB_OPT_ENUM,   /* *(int *)dest: the value's index in choices */
    SB_OPT_LIST    /* repeatable: appended to *(struct sb_option_list *)dest */
};

struct sb_option_list {
    const char **v; /* the caller's array, with room for one value per argument */
    size_t n;
};

struct sb_option {
    const char *name; /* "--threads" */
    enum sb_option_type type;
    void *dest;
    const char *value_name;     /* "N": shown in the synopsis and the help */
    const char *help;           /* word-wrapped by the help; "\n" breaks a line, and {choices}
                                 * stands for an enum's values */
    double min, max;            /* SB_OPT_INT, SB_OPT_UINT64, SB_OPT_DOUBLE */
    int min_open;               /* SB_OPT_DOUBLE: min itself is refused */
    const char *const *choices; /* SB_OPT_ENUM: the values, NULL-terminated */
    const char *what;           /* SB_OPT_ENUM: what a value names ("ISA"), for the message */
    int nonempty;               /* SB_OPT_STRING: "" is refused */
    const char **text;          /* optional: the value as written, for any type with a value */
    int at;                     /* set by the parser: argv index of its first use, 0 if unused */
};

/* Declaring options: {SB_INT("--threads", &a->threads, "N", 1, 1024, "OpenMP threads")}, and
 * further fields after the macro: {SB_STRING("--out", &a->out, "DIR", "..."), .nonempty = 1}. */
#define SB_FLAG(n, d, h) .name = (n), .type = SB_OPT_FLAG, .dest = (d), .help = (h)
#define SB_STRING(n, d, v, h)                                                                      \
    .name = (n), .type = SB_OPT_STRING, .dest = (d), .value_name = (v), .help = (h)
#define SB_INT(n, d, v, lo, hi, h)                                                                 \
    .name = (n), .type = SB_OPT_INT, .dest = (d), .value_name = (v), .min = (lo), .max = (hi),     \
    .help = (h)
#define SB_UINT64(n, d, v, lo, hi, h)                                                              \
    .name = (n), .type = SB_OPT_UINT64, .dest = (d), .value_name = (v), .min = (lo), .max = (hi),  \
    .help = (h)
#define SB_DOUBLE(n, d, v, lo, hi, h)                                                              \
    .name = (n), .type = SB_OPT_DOUBLE, .dest = (d), .value_name = (v), .min = (lo), .max = (hi),  \
    .help = (h)
#define SB_ENUM(n, d, v, c, h)                                                                     \
    .name = (n), .type = SB_OPT_ENUM, .dest = (d), .value_name = (v), .choices = (c), .help = (h)
#define SB_LIST(n, d, v, h)                                                                        \
    .name = (n), .type = SB_OPT_LIST, .dest = (d), .value_name = (v), .help = (h)

/* A command as the parser and its help see it. */
struct sb_command_spec {
    const char *name;          /* "compare": messages start "specbias compare: " */
    const char *synopsis;      /* the positionals before the options: "BASE NEW [MORE...]" */
    const char *synopsis_tail; /* after them: "[Google Benchmark flags]" */
    const char *more_usage;    /* further usage lines ("specbias run --rerun ..."), or NULL */
    const char *description;   /* pre-wrapped paragraphs after the usage, or NULL */
    struct sb_option *options;
    size_t noptions;
    const char *epilogue;               /* pre-wrapped text after the options, or NULL */
    struct sb_option_list *positionals; /* NULL: the command takes none */
    /* Unknown options starting with one of pass_prefixes (NULL-terminated) are appended to
     * `passed` (Google Benchmark's --benchmark_* and --v= for specbias kernels); with
     * pass_help, --help is too, after the command's own help, and parsing goes on. */
    const char *const *pass_prefixes;
    int pass_help;
    struct sb_option_list *passed;
};

/* Returns 0 (parsed), 1 (help printed on stdout) or -1 (bad usage, message on stderr). Every
 * option's `at` is reset first. */
int sb_options_parse(struct sb_command_spec *cmd, int argc, char **argv);

/* The command's --help: usage, description, the options, the epilogue. */
void sb_options_help(const struct sb_command_spec *cmd, FILE *f);

/* Prints text from column `col` (the cursor is there), word-wrapped at 100 columns, later lines
 * indented to `col`; "\n" in text breaks a line. */
void sb_help_wrapped(FILE *f, const char *text, size_t col);

/* The option of cmd given first on the command line among those in names (NULL-terminated),
 * or NULL when none was. */
const char *sb_options_first_given(const struct sb_command_spec *cmd, const char *const *names);

/* The ISA names for an enum option, from the kernel library's list (sb_isa_name): `first`
 * ("auto" or "all"), then every ISA; NULL-terminated. An option's value i > 0 is ISA i - 1. */
const char *const *sb_isa_choices(const char *first);

#endif

/* The option parser and the --help of every command (options.h). */
#include "harness/cli/options.h"
#include "harness/util/util.h"
#include "specbias/kernels.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define HELP_WIDTH 100 /* columns of --help, as the sources' */

__attribute__((format(printf, 2, 3))) static int bad(const struct sb_command_spec *cmd,
                                                     const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "specbias %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static struct sb_option *find(struct sb_command_spec *cmd, const char *name, size_t len)
{
    for (size_t i = 0; i < cmd->noptions; i++)
        if (strlen(cmd->options[i].name) == len && !strncmp(cmd->options[i].name, name, len))
            return &cmd->options[i];
    return NULL;
}

/* A whole number in [min, max]: digits only (strtoull's leading blanks and '+' aside). */
static int whole_number(const char *s, double min, double max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return -1;
    const unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || (double)v < min || (double)v > max) return -1;
    *out = v;
    return 0;
}

static int enum_value(const struct sb_command_spec *cmd, const struct sb_option *o, const char *val)
{
    char list[512] = "";
    size_t n = 0, len = 0;
    for (; o->choices[n]; n++)
        if (!strcmp(val, o->choices[n])) return (int)n;
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                i == 0       ? ""
                                : i + 1 == n ? " or "
                                             : ", ",
                                o->choices[i]);
    bad(cmd, "%s is %s, got '%s'%s%s%s", o->name, list, val, o->what ? " (not a known " : "",
        o->what ? o->what : "", o->what ? ")" : "");
    return -1;
}

/* Stores val into o's destination. Returns 0, or -1 with the message printed. */
static int set_value(const struct sb_command_spec *cmd, struct sb_option *o, const char *val)
{
    uint64_t u;
    char *end;
    double d;
    if (o->text) *o->text = val;
    switch (o->type) {
    case SB_OPT_FLAG: *(int *)o->dest = 1; return 0;
    case SB_OPT_STRING:
        if (o->nonempty && !*val) return bad(cmd, "%s needs a non-empty value", o->name);
        *(const char **)o->dest = val;
        return 0;
    case SB_OPT_INT:
    case SB_OPT_UINT64:
        if (whole_number(val, o->min, o->max, &u))
            return bad(cmd, "%s needs a whole number in [%llu, %llu], got '%s'", o->name,
                       (unsigned long long)o->min, (unsigned long long)o->max, val);
        if (o->type == SB_OPT_INT)
            *(int *)o->dest = (int)u;
        else
            *(uint64_t *)o->dest = u;
        return 0;
    case SB_OPT_DOUBLE:
        errno = 0;
        d = *val ? strtod(val, &end) : NAN;
        if (!*val || errno || *end || !isfinite(d) || (o->min_open ? d <= o->min : d < o->min) ||
            d > o->max)
            return bad(cmd, "%s needs a number in %s%g, %g], got '%s'", o->name,
                       o->min_open ? "(" : "[", o->min, o->max, val);
        *(double *)o->dest = d;
        return 0;
    case SB_OPT_ENUM:
        if ((*(int *)o->dest = enum_value(cmd, o, val)) < 0) return -1;
        return 0;
    case SB_OPT_LIST: {
        struct sb_option_list *l = o->dest;
        l->v[l->n++] = val;
        return 0;
    }
    }
    return -1;
}

/* The option of cmd (or --help) closest to arg's name, NULL when none is close: at most two
 * edits, and fewer than the letters after the dashes, so "-x" suggests nothing. */
static const char *closest_option(const struct sb_command_spec *cmd, const char *arg)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    const size_t letters = strlen(name) - strspn(name, "-");
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t k = 0; k <= cmd->noptions; k++) {
        const char *o = k < cmd->noptions ? cmd->options[k].name : "--help";
        const size_t d = sb_edit_distance(name, o);
        if (d < best_d && d < letters) {
            best_d = d;
            best = o;
        }
    }
    return best;
}

static int unknown(const struct sb_command_spec *cmd, const char *arg)
{
    const char *close = closest_option(cmd, arg);
    if (close) {
        /* One line: the fix, not a screen of help. */
        bad(cmd, "unknown option '%s'; did you mean '%s'? (`specbias %s --help` lists them)",
            arg, close, cmd->name);
        return -1;
    }
    bad(cmd, "unknown option '%s'\n", arg);
    sb_options_help(cmd, stderr);
    return -1;
}

/* argv[*i], an option: its value from "=VALUE" or the next argument, stored. Returns 0, 2 (not
 * one of cmd's options) or -1 (bad usage, message printed). */
static int take_option(struct sb_command_spec *cmd, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *eq = strncmp(arg, "--", 2) ? NULL : strchr(arg, '=');
    struct sb_option *o = find(cmd, arg, eq ? (size_t)(eq - arg) : strlen(arg));
    if (!o) return 2;
    if (!o->at) o->at = *i;
    if (o->type == SB_OPT_FLAG) {
        if (eq) return bad(cmd, "%s takes no value, got '%s'", o->name, arg);
        return set_value(cmd, o, "");
    }
    if (eq) return set_value(cmd, o, eq + 1);
    if (*i + 1 >= argc) return bad(cmd, "%s needs a value", o->name);
    return set_value(cmd, o, argv[++*i]);
}

/* Whether arg goes to the command's passed list. */
static int passes(const struct sb_command_spec *cmd, const char *arg)
{
    for (const char *const *p = cmd->pass_prefixes; p && *p; p++)
        if (!strncmp(arg, *p, strlen(*p))) return 1;
    return 0;
}

int sb_options_parse(struct sb_command_spec *cmd, int argc, char **argv)
{
    int options_done = 0;
    for (size_t k = 0; k < cmd->noptions; k++) cmd->options[k].at = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int is_option = arg[0] == '-' && arg[1] != '\0';
        if (cmd->positionals && (options_done || !is_option)) {
            cmd->positionals->v[cmd->positionals->n++] = arg;
            continue;
        }
        if (cmd->positionals && !strcmp(arg, "--")) {
            options_done = 1;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            sb_options_help(cmd, stdout);
            if (!cmd->pass_help || !strcmp(arg, "-h")) return 1;
            cmd->passed->v[cmd->passed->n++] = arg;
            continue;
        }
        const int rc = is_option ? take_option(cmd, argc, argv, &i) : 2;
        if (rc < 0) return -1;
        if (rc == 0) continue;
        if (!passes(cmd, arg)) return unknown(cmd, arg);
        cmd->passed->v[cmd->passed->n++] = arg;
    }
    return 0;
}

const char *sb_options_first_given(const struct sb_command_spec *cmd, const char *const *names)
{
    const struct sb_option *first = NULL;
    for (size_t k = 0; k < cmd->noptions; k++) {
        const struct sb_option *o = &cmd->options[k];
        for (const char *const *n = names; *n && o->at; n++)
            if (!strcmp(o->name, *n) && (!first || o->at < first->at)) first = o;
    }
    return first ? first->name : NULL;
}

/* ---- --help ------------------------------------------------------------------------------- */

/* text with {choices} replaced by the option's choices, comma-separated. */
static void expand(char *buf, size_t len, const char *text, const char *const *choices)
{
    const char *at = choices ? strstr(text, "{choices}") : NULL;
    if (!at) {
        snprintf(buf, len, "%s", text);
        return;
    }
    size_t n = (size_t)snprintf(buf, len, "%.*s", (int)(at - text), text);
    for (size_t i = 0; choices[i] && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", choices[i]);
    if (n < len) snprintf(buf + n, len - n, "%s", at + strlen("{choices}"));
}

void sb_help_wrapped(FILE *f, const char *text, size_t col)
{
    size_t x = col;
    for (const char *p = text; *p;) {
        if (*p == '\n') {
            fprintf(f, "\n%*s", (int)col, "");
            x = col;
            p++;
            continue;
        }
        const size_t word = strcspn(p, " \n");
        if (x > col && x + 1 + word > HELP_WIDTH) {
            fprintf(f, "\n%*s", (int)col, "");
            x = col;
        } else if (x > col) {
            fputc(' ', f);
            x++;
        }
        fprintf(f, "%.*s", (int)word, p);
        x += word;
        p += word;
        while (*p == ' ') p++;
    }
    fputc('\n', f);
}

/* "--name VALUE" as the synopsis and the option list show it. */
static void option_label(char *buf, size_t len, const struct sb_option *o)
{
    if (o->type == SB_OPT_FLAG) {
        snprintf(buf, len, "%s", o->name);
    } else if (o->value_name) {
        snprintf(buf, len, "%s %s", o->name, o->value_name);
    } else {
        size_t n = (size_t)snprintf(buf, len, "%s ", o->name);
        for (size_t i = 0; o->choices && o->choices[i] && n < len; i++)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "|" : "", o->choices[i]);
    }
}

static void synopsis(const struct sb_command_spec *cmd, FILE *f)
{
    char item[160], label[150];
    const size_t indent = (size_t)fprintf(f, "usage: specbias %s", cmd->name) + 1;
    size_t x = indent - 1;
    for (size_t k = 0; k < cmd->noptions + 2; k++) {
        const char *s = k == 0 ? cmd->synopsis : k == cmd->noptions + 1 ? cmd->synopsis_tail : item;
        if (k > 0 && k <= cmd->noptions) {
            option_label(label, sizeof label, &cmd->options[k - 1]);
            snprintf(item, sizeof item, "[%s]", label);
        }
        if (!s) continue;
        if (x + 1 + strlen(s) > HELP_WIDTH) {
            fprintf(f, "\n%*s", (int)indent - 1, "");
            x = indent - 1;
        }
        x += (size_t)fprintf(f, " %s", s);
    }
    fputc('\n', f);
    if (cmd->more_usage) fprintf(f, "       %s\n", cmd->more_usage);
}

void sb_options_help(const struct sb_command_spec *cmd, FILE *f)
{
    char label[160], text[2048];
    size_t col = 0;
    synopsis(cmd, f);
    if (cmd->description) fprintf(f, "\n%s", cmd->description);
    for (size_t k = 0; k < cmd->noptions; k++) {
        option_label(label, sizeof label, &cmd->options[k]);
        if (strlen(label) > col && strlen(label) <= 22) col = strlen(label);
    }
    col += 4; /* two spaces before, two after */
    if (cmd->noptions) fputc('\n', f);
    for (size_t k = 0; k < cmd->noptions; k++) {
        const struct sb_option *o = &cmd->options[k];
        option_label(label, sizeof label, o);
        if (strlen(label) + 4 > col)
            fprintf(f, "  %s\n%*s", label, (int)col, "");
        else
            fprintf(f, "  %-*s", (int)col - 2, label);
        expand(text, sizeof text, o->help ? o->help : "", o->choices);
        sb_help_wrapped(f, text, col);
    }
    if (cmd->epilogue) fprintf(f, "\n%s", cmd->epilogue);
}

const char *const *sb_isa_choices(const char *first)
{
    static const char *lists[2][SB_ISA_COUNT + 2];
    const char **l = lists[strcmp(first, "auto") != 0];
    l[0] = first;
    for (int i = 0; i < SB_ISA_COUNT; i++) l[i + 1] = sb_isa_name((enum sb_isa)i);
    l[SB_ISA_COUNT + 1] = NULL;
    return l;
}

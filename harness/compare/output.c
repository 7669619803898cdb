/* specbias compare's output: the gate and the machines table as text, Markdown (a pull-request
 * comment) or JSON (schema specbias-compare/1). */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names and notes come from input files: control characters would garble a terminal, and
 * Markdown's special characters would turn kernel names like a__avx2 into emphasis. */
static void put_text(FILE *f, const char *s, int markdown)
{
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            fputc('?', f);
            continue;
        }
        if (markdown && strchr("\\`*_[]<>|#", c)) fputc('\\', f);
        fputc(c, f);
    }
}

static json_t *real_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* json_string refuses invalid UTF-8, and paths from the command line (and so labels and
 * warnings that quote them) may be Latin-1: such bytes become '?'. */
static json_t *text_json(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *copy = strdup(s);
    if (!copy) return NULL;
    for (char *c = copy; *c; c++)
        if ((unsigned char)*c >= 0x80) *c = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static json_t *string_or_null(const char *s) { return s ? text_json(s) : json_null(); }

/* The cells of one gate row as text, for the text and Markdown tables. */
enum { COL_KIND, COL_NAME, COL_METRIC, COL_BASE, COL_NEW, COL_CHANGE, COL_P, COL_VERDICT, NCOL };
static const char *const gate_headers[NCOL] = {"kind", "name",   "metric", "base",
                                               "new",  "change", "p",      "verdict"};

/* How a metric is shown: one time unit per kind of figure across run, compare and the report
 * (a training step in ms, time to target in s, a kernel in ns), PSNR in dB. The JSON keeps
 * the metric's own name and SI unit. */
struct display {
    const char *label, *unit; /* unit "": none */
    double scale;             /* shown = value x scale */
};

static struct display display_of(const char *metric)
{
    static const struct {
        const char *metric;
        struct display d;
    } table[] = {
        {"seconds_per_step", {"step_time", "ms", 1e3}},
        {"time_to_target_s", {"time_to_target", "s", 1.0}},
        {"real_time_ns", {"real_time", "ns", 1.0}},
        {"final_psnr_db", {"final_psnr", "dB", 1.0}},
        {"frequencies_learned", {"learned", "", 1.0}},
        {"gflops", {"gflops", "GFLOP/s", 1.0}},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (!strcmp(metric, table[i].metric)) return table[i].d;
    return (struct display){metric, "", 1.0};
}

/* Four significant digits, without an exponent up to 1e9 (a kernel's 123456 ns). */
static void num_text(char *buf, size_t len, double x, int sign)
{
    if (fabs(x) >= 1e4 && fabs(x) < 1e9)
        snprintf(buf, len, sign ? "%+.0f" : "%.0f", x);
    else
        snprintf(buf, len, sign ? "%+.4g" : "%.4g", x);
}

static void value_cell(char *buf, size_t len, const char *text, double x, const struct display *d)
{
    char num[48];
    if (text) {
        snprintf(buf, len, "%s", text);
    } else if (isfinite(x)) {
        num_text(num, sizeof num, x * d->scale, 0);
        snprintf(buf, len, "%s%s%s", num, *d->unit ? " " : "", d->unit);
    } else {
        snprintf(buf, len, "-");
    }
}

/* The difference in the metric's own unit, and the percentage beside it where a ratio means
 * something (not for dB, a logarithmic unit, nor for counts). */
static void change_cell(char *buf, size_t len, const struct row *r, const struct display *d)
{
    if (!isfinite(r->diff) || r->verdict == V_NOT_COMPARABLE || !r->numeric)
        snprintf(buf, len, "-");
    else if (!strcmp(r->metric, "frequencies_learned"))
        snprintf(buf, len, "%+.0f", r->diff);
    else if (!strcmp(d->unit, "dB"))
        snprintf(buf, len, "%+.2f dB", r->diff);
    else {
        char num[48], pct[32] = "";
        num_text(num, sizeof num, r->diff * d->scale, 1);
        if (isfinite(r->change_pct)) snprintf(pct, sizeof pct, " (%+.1f%%)", r->change_pct);
        snprintf(buf, len, "%s%s%s%s", num, *d->unit ? " " : "", d->unit, pct);
    }
}

static void gate_cells(const struct row *r, char cells[NCOL][96])
{
    const struct display d = display_of(r->metric);
    snprintf(cells[COL_KIND], 96, "%s", r->kind);
    snprintf(cells[COL_NAME], 96, "%s", r->name);
    snprintf(cells[COL_METRIC], 96, "%s", d.label);
    value_cell(cells[COL_BASE], 96, r->base_text, r->base, &d);
    value_cell(cells[COL_NEW], 96, r->new_text, r->new_, &d);
    change_cell(cells[COL_CHANGE], 96, r, &d);
    if (isfinite(r->p))
        snprintf(cells[COL_P], 96, "%.3g", r->p);
    else
        snprintf(cells[COL_P], 96, "-");
    snprintf(cells[COL_VERDICT], 96, "%s", sb_verdict_names[r->verdict]);
}

static const char *plural(size_t n, const char *s) { return n == 1 ? "" : s; }

/* The overall verdict, the counts, and beside them the runs the machine audit calls
 * disturbed: their timings may be the machine's, not the code's. */
static void print_verdict_line(FILE *f, const struct gate *g, const struct counts *c,
                               int markdown)
{
    static const char *const upper[] = {"PASS", "REGRESSION", "INCONCLUSIVE"};
    fprintf(f,
            "%sverdict: %s%s: %zu regression%s, %zu inconclusive, %zu not comparable, %zu "
            "missing, %zu improvement%s, %zu numerics change%s, %zu warning%s",
            markdown ? "**specbias compare " : "", upper[c->verdict], markdown ? "**" : "",
            c->regressions, plural(c->regressions, "s"), c->inconclusive, c->not_comparable,
            c->missing, c->improvements, plural(c->improvements, "s"), c->numerics,
            plural(c->numerics, "s"), c->warnings, plural(c->warnings, "s"));
    const struct input *side[2] = {g->base, g->new_};
    int named = 0;
    for (int i = 0; i < 2; i++) {
        if (side[i]->kind != KIND_RESULTS || !side[i]->audit.disturbed) continue;
        if (i == 1 && named && !strcmp(side[0]->path, side[1]->path))
            continue; /* the same file twice is named once */
        fputs(named ? ", " : "; disturbed while it ran: ", f);
        fputs(i ? "NEW " : "BASE ", f);
        put_text(f, side[i]->path, markdown);
        named = 1;
    }
    fputc('\n', f);
}

static void print_files(FILE *f, const struct input *in, size_t nin, int gate, int markdown)
{
    for (size_t i = 0; i < nin; i++) {
        if (gate)
            fprintf(f, "%s%-5s ", markdown ? "- " : "", i == 0 ? "BASE:" : "NEW:");
        else
            fprintf(f, "%s[%zu] ", markdown ? "- " : "", i);
        put_text(f, in[i].path, markdown);
        fputs(" (", f);
        put_text(f, in[i].label, markdown);
        fputs(")\n", f);
        if (in[i].kind != KIND_RESULTS) continue;
        char line[512];
        sb_compare_audit_line(line, sizeof line, &in[i]);
        fputs(markdown ? "  - audit: " : gate ? "      audit: " : "    audit: ", f);
        put_text(f, line, markdown);
        fputc('\n', f);
    }
}

static void print_warnings(FILE *f, const struct strlist *w, int markdown)
{
    if (w->n == 0) return;
    fprintf(f, "\n%s\n", markdown ? "**Warnings**\n" : "warnings:");
    for (size_t i = 0; i < w->n; i++) {
        fputs(markdown ? "- " : "  - ", f);
        put_text(f, w->s[i], markdown);
        fputc('\n', f);
    }
}

static void print_options(FILE *f, const struct compare_options *o, int markdown)
{
    fprintf(f, "%sthreshold %g%%, alpha %g, PSNR tolerance %g dB, loss tolerance %g%%%s%s\n\n",
            markdown ? "- " : "", o->threshold_pct, o->alpha, o->psnr_tolerance_db,
            o->loss_tolerance_pct, o->accept_numerics ? ", numerics changes accepted" : "",
            o->allow_missing ? ", missing experiments allowed" : "");
}

void sb_print_gate_text(const struct gate *g, const struct counts *c)
{
    const struct compare_options *o = g->o;
    const struct input both[2] = {*g->base, *g->new_};
    print_files(stdout, both, 2, 1, 0);
    print_options(stdout, o, 0);
    size_t width[NCOL];
    char cells[NCOL][96];
    for (int k = 0; k < NCOL; k++) width[k] = strlen(gate_headers[k]);
    for (size_t i = 0; i < g->n; i++) {
        gate_cells(&g->rows[i], cells);
        for (int k = 0; k < NCOL; k++)
            if (strlen(cells[k]) > width[k]) width[k] = strlen(cells[k]);
    }
    for (int k = 0; k < NCOL; k++) printf("%-*s  ", (int)width[k], gate_headers[k]);
    printf("note\n");
    for (size_t i = 0; i < g->n; i++) {
        gate_cells(&g->rows[i], cells);
        for (int k = 0; k < NCOL; k++) {
            put_text(stdout, cells[k], 0);
            printf("%*s  ", (int)(width[k] - strlen(cells[k])), "");
        }
        put_text(stdout, g->rows[i].note, 0);
        putchar('\n');
    }
    putchar('\n');
    print_verdict_line(stdout, g, c, 0);
    print_warnings(stdout, &g->warnings, 0);
}

void sb_print_gate_markdown(const struct gate *g, const struct counts *c)
{
    const struct compare_options *o = g->o;
    print_verdict_line(stdout, g, c, 1);
    putchar('\n');
    const struct input both[2] = {*g->base, *g->new_};
    print_files(stdout, both, 2, 1, 1);
    print_options(stdout, o, 1);
    for (int k = 0; k < NCOL; k++) printf("| %s ", gate_headers[k]);
    printf("| note |\n");
    for (int k = 0; k <= NCOL; k++) printf("|%s", k >= COL_BASE && k <= COL_P ? " ---: " : " --- ");
    printf("|\n");
    char cells[NCOL][96];
    for (size_t i = 0; i < g->n; i++) {
        const struct row *r = &g->rows[i];
        gate_cells(r, cells);
        const int bold = r->verdict == V_REGRESSION || r->verdict == V_NUMERICS_CHANGED;
        for (int k = 0; k < NCOL; k++) {
            fputs("| ", stdout);
            if (k == COL_VERDICT && bold) fputs("**", stdout);
            put_text(stdout, cells[k], 1);
            if (k == COL_VERDICT && bold) fputs("**", stdout);
            fputc(' ', stdout);
        }
        fputs("| ", stdout);
        put_text(stdout, r->note, 1);
        fputs(" |\n", stdout);
    }
    print_warnings(stdout, &g->warnings, 1);
}

/* A value in its display unit (a step in ms), and beside it the ratio to the first file. */
static void table_cell(const struct mrow *r, size_t f, char *buf, size_t len)
{
    if (isnan(r->values[f])) {
        snprintf(buf, len, "-");
        return;
    }
    const struct display d = display_of(r->metric);
    char value[64], rel_text[32] = "";
    value_cell(value, sizeof value, NULL, r->values[f], &d);
    const double rel = sb_table_relative(r, f);
    if (f > 0 && isfinite(rel)) snprintf(rel_text, sizeof rel_text, " (x%.2f)", rel);
    snprintf(buf, len, "%s%s", value, rel_text);
}

void sb_print_table(const struct table *t, const struct input *in, const struct strlist *warnings,
                    int markdown)
{
    if (markdown)
        printf("**specbias compare: %zu files**, values relative to [0], best in bold\n\n",
               t->nfiles);
    else
        printf("specbias compare: %zu files, values relative to [0], best marked *\n", t->nfiles);
    print_files(stdout, in, t->nfiles, 0, markdown);
    putchar('\n');
    const size_t ncol = 4 + t->nfiles;
    size_t *width = calloc(ncol, sizeof *width);
    char cell[128];
    if (!width) return;
    static const char *const heads[4] = {"kind", "name", "metric", "better"};
    for (size_t k = 0; k < 4; k++) width[k] = strlen(heads[k]);
    for (size_t f = 0; f < t->nfiles; f++)
        width[4 + f] = (size_t)snprintf(cell, sizeof cell, "[%zu]", f);
    for (size_t i = 0; i < t->n; i++) {
        const struct mrow *r = &t->rows[i];
        const char *fixed[4] = {r->kind, r->name, display_of(r->metric).label,
                                r->lower_better ? "lower" : "higher"};
        for (size_t k = 0; k < 4; k++)
            if (strlen(fixed[k]) > width[k]) width[k] = strlen(fixed[k]);
        for (size_t f = 0; f < t->nfiles; f++) {
            table_cell(r, f, cell, sizeof cell);
            const size_t l = strlen(cell) + ((long)f == r->winner);
            if (l > width[4 + f]) width[4 + f] = l;
        }
    }
    if (markdown) {
        for (size_t k = 0; k < 4; k++) printf("| %s ", heads[k]);
        for (size_t f = 0; f < t->nfiles; f++) printf("| [%zu] ", f);
        printf("|\n");
        for (size_t k = 0; k < ncol; k++) printf("|%s", k >= 4 ? " ---: " : " --- ");
        printf("|\n");
    } else {
        for (size_t k = 0; k < 4; k++) printf("%-*s  ", (int)width[k], heads[k]);
        for (size_t f = 0; f < t->nfiles; f++) {
            snprintf(cell, sizeof cell, "[%zu]", f);
            printf("%-*s%s", f + 1 < t->nfiles ? (int)width[4 + f] : 0, cell,
                   f + 1 < t->nfiles ? "  " : "");
        }
        putchar('\n');
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct mrow *r = &t->rows[i];
        const char *fixed[4] = {r->kind, r->name, display_of(r->metric).label,
                                r->lower_better ? "lower" : "higher"};
        for (size_t k = 0; k < 4; k++) {
            if (markdown) fputs("| ", stdout);
            put_text(stdout, fixed[k], markdown);
            if (markdown)
                fputc(' ', stdout);
            else
                printf("%*s  ", (int)(width[k] - strlen(fixed[k])), "");
        }
        for (size_t f = 0; f < t->nfiles; f++) {
            table_cell(r, f, cell, sizeof cell);
            const int win = (long)f == r->winner;
            if (markdown)
                printf("| %s%s%s ", win ? "**" : "", cell, win ? "**" : "");
            else if (f + 1 < t->nfiles)
                printf("%s%s%*s  ", cell, win ? "*" : "",
                       (int)(width[4 + f] - strlen(cell) - (size_t)win), "");
            else
                printf("%s%s", cell, win ? "*" : "");
        }
        if (markdown) fputc('|', stdout);
        putchar('\n');
    }
    free(width);
    print_warnings(stdout, warnings, markdown);
}

static json_t *bool_or_null(int b) { return b < 0 ? json_null() : json_boolean(b); }

/* The audit's summary for a file of the JSON output; null without one. */
static json_t *audit_json(const struct input *in)
{
    const struct audit_info *a = &in->audit;
    if (!a->present) return json_null();
    json_t *o = json_object(), *w = json_array();
    json_object_set_new(o, "measured_mhz", real_or_null(a->measured_mhz));
    json_object_set_new(o, "nominal_mhz", real_or_null(a->nominal_mhz));
    json_object_set_new(o, "core_to_core_ns", real_or_null(a->c2c_ns));
    json_object_set_new(o, "governor", string_or_null(a->governor));
    json_object_set_new(o, "boost", bool_or_null(a->boost));
    json_object_set_new(o, "smt",
                        json_pack("{s:o, s:o, s:o}", "active", bool_or_null(a->smt_active),
                                  "control", string_or_null(a->smt_control), "threads_per_core",
                                  a->smt_per_core ? json_integer(a->smt_per_core) : json_null()));
    json_object_set_new(o, "steal_fraction", real_or_null(a->steal_fraction));
    json_object_set_new(o, "others_fraction", real_or_null(a->others_fraction));
    json_object_set_new(o, "disturbed", json_boolean(a->disturbed));
    for (size_t k = 0; a->warnings && k < json_array_size(a->warnings); k++) {
        const char *text = json_string_value(json_array_get(a->warnings, k));
        if (text) json_array_append_new(w, text_json(text));
    }
    json_object_set_new(o, "warnings", w);
    json_object_set_new(o, "peak_gflops", real_or_null(a->peak_gflops));
    return o;
}

json_t *sb_files_json(const struct input *in, size_t nin)
{
    json_t *a = json_array();
    for (size_t i = 0; i < nin; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "path", text_json(in[i].path));
        json_object_set_new(f, "kind", json_string(sb_kind_names[in[i].kind]));
        json_object_set_new(f, "label", text_json(in[i].label));
        json_object_set_new(f, "runs", json_integer(in[i].merged ? (json_int_t)in[i].runs : 1));
        json_object_set_new(f, "samples", json_string(sb_input_sample_unit(&in[i])));
        json_object_set_new(f, "host", string_or_null(in[i].host));
        json_object_set_new(f, "cpu_model", string_or_null(in[i].cpu_model));
        json_object_set_new(f, "isa_used", string_or_null(in[i].isa_used));
        json_object_set_new(f, "threads",
                            in[i].has_threads ? json_integer(in[i].threads) : json_null());
        json_object_set_new(f, "git_commit", string_or_null(in[i].git_commit));
        json_object_set_new(f, "date", string_or_null(in[i].date));
        json_object_set_new(f, "audit", audit_json(&in[i]));
        json_array_append_new(a, f);
    }
    return a;
}

static json_t *sample_json(int numeric, double median, size_t n)
{
    return numeric ? json_pack("{s:o, s:I}", "median", real_or_null(median), "n", (json_int_t)n)
                   : json_null();
}

static json_t *gate_row_json(const struct row *r)
{
    json_t *jr = json_object();
    json_object_set_new(jr, "kind", json_string(r->kind));
    json_object_set_new(jr, "name", json_string(r->name));
    json_object_set_new(jr, "metric", json_string(r->metric));
    json_object_set_new(jr, "unit", r->unit ? json_string(r->unit) : json_null());
    json_object_set_new(jr, "base", sample_json(r->numeric, r->base, r->base_n));
    json_object_set_new(jr, "new", sample_json(r->numeric, r->new_, r->new_n));
    json_object_set_new(jr, "difference", real_or_null(r->diff));
    json_object_set_new(jr, "ratio", real_or_null(r->ratio));
    json_object_set_new(jr, "change_pct", real_or_null(r->change_pct));
    json_object_set_new(jr, "p_value", real_or_null(r->p));
    json_object_set_new(jr, "verdict", json_string(sb_verdict_names[r->verdict]));
    json_object_set_new(jr, "note", text_json(r->note));
    if (r->base_text && !r->numeric) {
        json_object_set_new(jr, "base_value", text_json(r->base_text));
        json_object_set_new(jr, "new_value", text_json(r->new_text));
    }
    if (r->verdict == V_NOT_COMPARABLE) json_object_set_new(jr, "field", text_json(r->field));
    if (r->metric && !strcmp(r->metric, "status"))
        json_object_set_new(jr, "missing", json_boolean(r->missing));
    return jr;
}

static json_t *table_json(const struct table *t, const struct input *in, size_t nin)
{
    json_t *cols = json_array(), *trows = json_array();
    for (size_t f = 0; f < nin; f++) json_array_append_new(cols, text_json(in[f].label));
    for (size_t i = 0; i < t->n; i++) {
        const struct mrow *r = &t->rows[i];
        json_t *vals = json_array(), *rel = json_array();
        for (size_t f = 0; f < nin; f++) {
            json_array_append_new(vals, real_or_null(r->values[f]));
            json_array_append_new(rel, real_or_null(sb_table_relative(r, f)));
        }
        json_array_append_new(
            trows, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "kind", r->kind, "name",
                             r->name, "metric", r->metric, "better",
                             r->lower_better ? "lower" : "higher", "values", vals, "relative",
                             rel, "winner", r->winner >= 0 ? json_integer(r->winner) : json_null()));
    }
    return json_pack("{s:o, s:o}", "columns", cols, "rows", trows);
}

static json_t *strings_json(const struct strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->n; i++) json_array_append_new(a, text_json(l->s[i]));
    return a;
}

static json_t *counts_json(const struct counts *c)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "regressions",
                     (json_int_t)c->regressions, "inconclusive", (json_int_t)c->inconclusive,
                     "not_comparable", (json_int_t)c->not_comparable, "missing",
                     (json_int_t)c->missing, "improvements", (json_int_t)c->improvements,
                     "numerics_changed", (json_int_t)c->numerics, "warnings",
                     (json_int_t)c->warnings);
}

/* The paths of the results files whose machine audit says disturbed. */
static json_t *disturbed_json(const struct input *in, size_t nin)
{
    json_t *a = json_array();
    for (size_t i = 0; i < nin; i++)
        if (in[i].kind == KIND_RESULTS && in[i].audit.disturbed)
            json_array_append_new(a, text_json(in[i].path));
    return a;
}

int sb_print_compare_json(const struct compare_options *o, const struct input *in, size_t nin,
                          const struct gate *g, const struct table *t,
                          const struct strlist *warnings, const struct strlist *audit_warnings)
{
    json_t *root = json_object();
    const int gate = g != NULL;
    struct counts c = {0};
    if (gate) c = sb_gate_counts(g);
    c.warnings = warnings->n;
    json_object_set_new(root, "schema", json_string("specbias-compare/1"));
    json_object_set_new(root, "mode", json_string(gate ? "gate" : "machines"));
    json_object_set_new(root, "threshold_pct", json_real(o->threshold_pct));
    json_object_set_new(root, "alpha", json_real(o->alpha));
    json_object_set_new(root, "psnr_tolerance_db", json_real(o->psnr_tolerance_db));
    json_object_set_new(root, "loss_tolerance_pct", json_real(o->loss_tolerance_pct));
    json_object_set_new(root, "accept_numerics", json_boolean(o->accept_numerics));
    json_object_set_new(root, "allow_missing", json_boolean(o->allow_missing));
    json_object_set_new(root, "files", sb_files_json(in, nin));
    json_object_set_new(root, "verdict", json_string(sb_overall_names[c.verdict]));
    json_object_set_new(root, "counts", counts_json(&c));
    json_object_set_new(root, "disturbed", disturbed_json(in, nin));
    json_object_set_new(root, "warnings", strings_json(warnings));
    /* the machine audit's share of warnings, for readers that show them apart (the report) */
    json_object_set_new(root, "audit_warnings", strings_json(audit_warnings));
    json_t *rows = json_array();
    for (size_t i = 0; gate && i < g->n; i++) json_array_append_new(rows, gate_row_json(&g->rows[i]));
    json_object_set_new(root, "rows", rows);
    json_object_set_new(root, "table", t ? table_json(t, in, nin) : json_null());
    const int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc) return -1;
    putchar('\n');
    return 0;
}

/* specbias compare: the machine audit of results files (context.audit, harness/machine/audit.h)
 * as header lines and warnings. */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include "harness/util/util.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* What may make two results files' timings differ besides the code: a run the audit found
 * disturbed (its own verdict and reasons, recomputed by nobody), a file without an audit, and
 * machines that differ in governor, boost, SMT, clock (measured over 5 %, nominal over 1 %),
 * core-to-core round trip (over 50 %, between runs of several threads) or the FMA peak of the
 * ISA used (over 10 %). Only warnings: they never change the exit code. */
#define AUDIT_MEASURED_LIMIT 0.05
#define AUDIT_NOMINAL_LIMIT  0.01
#define AUDIT_PEAK_LIMIT     0.10
/* The core-to-core round trip of one placement varies by up to 40 % between runs (the Zen 5
 * VM, two vCPUs far apart: 407-564 ns over 964 runs); half again or more is another placement
 * of the cores (the same VM's vCPUs close together: 59-166 ns; another die, socket or host),
 * which slows every step of several threads that wait on each other. */
#define AUDIT_C2C_LIMIT 0.50

/* "path (BASE)" in a gate, "path ([2])" in a table. */
static void audit_name(char *buf, size_t len, const struct input *in, size_t i, int gate)
{
    if (gate)
        snprintf(buf, len, "%s (%s)", in[i].path, i == 0 ? "BASE" : "NEW");
    else
        snprintf(buf, len, "%s ([%zu])", in[i].path, i);
}

static const char *on_off(int b) { return b < 0 ? "unknown" : b ? "on" : "off"; }

static void smt_text(char *buf, size_t len, const struct audit_info *a)
{
    snprintf(buf, len, "%s%s%s%s",
             a->smt_active < 0 ? "?"
             : a->smt_active   ? "on"
                               : "off",
             a->smt_control ? " (control " : "", a->smt_control ? a->smt_control : "",
             a->smt_control ? ")" : "");
}

static void audit_pair(struct strlist *w, const struct input *in, size_t r, size_t i, int gate)
{
    const struct audit_info *a = &in[r].audit, *b = &in[i].audit;
    char na[400], nb[400];
    audit_name(na, sizeof na, in, r, gate);
    audit_name(nb, sizeof nb, in, i, gate);
    if (a->governor && b->governor && strcmp(a->governor, b->governor))
        sb_strlist_addf(w, "the frequency governor differs: %s in %s, %s in %s", a->governor, na,
                        b->governor, nb);
    if (a->boost >= 0 && b->boost >= 0 && a->boost != b->boost)
        sb_strlist_addf(w, "boost (turbo) differs: %s in %s, %s in %s", on_off(a->boost), na,
                        on_off(b->boost), nb);
    if ((a->smt_control && b->smt_control && strcmp(a->smt_control, b->smt_control)) ||
        (a->smt_active >= 0 && b->smt_active >= 0 && a->smt_active != b->smt_active)) {
        char sa[64], sb[64];
        smt_text(sa, sizeof sa, a);
        smt_text(sb, sizeof sb, b);
        sb_strlist_addf(w, "SMT differs: %s in %s, %s in %s", sa, na, sb, nb);
    }
    const double mr = b->measured_mhz / a->measured_mhz;
    if (isfinite(mr) && fabs(mr - 1.0) > AUDIT_MEASURED_LIMIT)
        sb_strlist_addf(w,
                        "the measured clock differs by %+.1f %% (above %.0f %%): %.0f MHz in %s, "
                        "%.0f MHz in %s: the timings compare clocks as well as code",
                        100.0 * (mr - 1.0), 100.0 * AUDIT_MEASURED_LIMIT, a->measured_mhz, na,
                        b->measured_mhz, nb);
    /* only where both runs had threads that wait on each other */
    const double cr = b->c2c_ns / a->c2c_ns;
    if (in[r].has_threads && in[i].has_threads && in[r].threads > 1 && in[i].threads > 1 &&
        isfinite(cr) && fabs(cr - 1.0) > AUDIT_C2C_LIMIT)
        sb_strlist_addf(w,
                        "the core-to-core round trip differs by %+.0f %% (above %.0f %%): %.0f ns "
                        "in %s, %.0f ns in %s: the threads of one training wait on each other "
                        "longer in one of them",
                        100.0 * (cr - 1.0), 100.0 * AUDIT_C2C_LIMIT, a->c2c_ns, na, b->c2c_ns,
                        nb);
    const double nr = b->nominal_mhz / a->nominal_mhz;
    if (isfinite(nr) && fabs(nr - 1.0) > AUDIT_NOMINAL_LIMIT)
        sb_strlist_addf(w,
                        "the nominal clock differs by %+.1f %% (above %.0f %%): %.0f MHz in %s, "
                        "%.0f MHz in %s",
                        100.0 * (nr - 1.0), 100.0 * AUDIT_NOMINAL_LIMIT, a->nominal_mhz, na,
                        b->nominal_mhz, nb);
    /* The peak is over all the run's threads: only the same ISA on as many threads is the
     * same peak. */
    const double pr = b->peak_gflops / a->peak_gflops;
    if (in[r].isa_used && in[i].isa_used && !strcmp(in[r].isa_used, in[i].isa_used) &&
        !(in[r].has_threads && in[i].has_threads && in[r].threads != in[i].threads) &&
        isfinite(pr) && fabs(pr - 1.0) > AUDIT_PEAK_LIMIT)
        sb_strlist_addf(w,
                        "the %s FMA peak differs by %+.1f %% (above %.0f %%): %.1f GFLOP/s in %s, "
                        "%.1f GFLOP/s in %s: the shares of peak are not comparable",
                        in[r].isa_used, 100.0 * (pr - 1.0), 100.0 * AUDIT_PEAK_LIMIT,
                        a->peak_gflops, na, b->peak_gflops, nb);
}

/* The experiments of in[i] that could not use their threads (sb_threads_note),
 * each once: a merged side's runs repeat its experiments. */
static void threads_notes(struct strlist *w, const struct input *in, size_t i, int gate)
{
    for (size_t j = 0; j < i; j++)
        if (in[j].kind == KIND_RESULTS && !strcmp(in[j].path, in[i].path)) return;
    char name[400], note[512];
    audit_name(name, sizeof name, in, i, gate);
    const json_t *roots = in[i].run_roots;
    const size_t nroots = roots ? json_array_size(roots) : 1;
    for (size_t r = 0; r < nroots; r++) {
        const json_t *root = roots ? json_array_get(roots, r) : in[i].root;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(root, "experiments"), k, e) {
            if (!sb_threads_note(e, note, sizeof note)) continue;
            int seen = 0;
            for (size_t q = 0; q < r && !seen; q++) {
                size_t m;
                json_t *o;
                json_array_foreach(json_object_get(json_array_get(roots, q), "experiments"), m, o)
                    if (json_equal(json_object_get(o, "name"), json_object_get(e, "name")))
                        seen = 1;
            }
            if (!seen) sb_strlist_addf(w, "%s: threads not fully used: %s", name, note);
        }
    }
}

/* The audit warnings of nin files into w: per results file, disturbed or no audit; then each
 * results file against the first with an audit (BASE in a gate). */
void sb_compare_audit_checks(struct strlist *w, const struct input *in, size_t nin, int gate)
{
    char name[400], reasons[640];
    long ref = -1;
    for (size_t i = 0; i < nin; i++) {
        if (in[i].kind != KIND_RESULTS) continue;
        int repeated = 0; /* the same file twice says it once */
        for (size_t j = 0; j < i && !repeated; j++)
            repeated = in[j].kind == KIND_RESULTS && !strcmp(in[j].path, in[i].path);
        const struct audit_info *a = &in[i].audit;
        if (a->present && ref < 0) ref = (long)i;
        if (repeated) continue;
        audit_name(name, sizeof name, in, i, gate);
        if (!a->present) {
            sb_strlist_addf(w,
                            "%s has no machine audit (written before specbias recorded one): its "
                            "clock, governor, boost, SMT and disturbance are unknown",
                            name);
            continue;
        }
        if (!a->disturbed) continue;
        size_t len = 0;
        reasons[0] = '\0';
        for (size_t k = 0; a->warnings && k < json_array_size(a->warnings); k++) {
            const char *text = json_string_value(json_array_get(a->warnings, k));
            if (!text || len + 1 >= sizeof reasons) continue;
            const int wrote =
                snprintf(reasons + len, sizeof reasons - len, "%s%s", len ? "; " : "", text);
            if (wrote > 0) len += (size_t)wrote;
            if (len >= sizeof reasons) len = sizeof reasons - 1;
        }
        sb_strlist_addf(w, "%s was disturbed while it ran: %s", name,
                        len ? reasons : "its audit gives no reason");
    }
    for (size_t i = 0; ref >= 0 && i < nin; i++)
        if ((long)i != ref && in[i].kind == KIND_RESULTS && in[i].audit.present)
            audit_pair(w, in, (size_t)ref, i, gate);
    for (size_t i = 0; i < nin; i++)
        if (in[i].kind == KIND_RESULTS) threads_notes(w, in, i, gate);
}

/* One line of a file's audit for the header: clock, governor, boost, SMT, steal, others. */
void sb_compare_audit_line(char *buf, size_t len, const struct input *in)
{
    const struct audit_info *a = &in->audit;
    if (!a->present) {
        snprintf(buf, len, "none (written before specbias recorded a machine audit)");
        return;
    }
    char measured[32] = "?", nominal[32] = "?", steal[32] = "?", others[32] = "?", smt[64];
    char c2c[48] = "";
    if (isfinite(a->measured_mhz)) snprintf(measured, sizeof measured, "%.0f MHz", a->measured_mhz);
    if (isfinite(a->c2c_ns)) snprintf(c2c, sizeof c2c, "; core to core %.0f ns", a->c2c_ns);
    if (isfinite(a->nominal_mhz)) snprintf(nominal, sizeof nominal, "%.0f MHz", a->nominal_mhz);
    if (isfinite(a->steal_fraction))
        snprintf(steal, sizeof steal, "%.1f %%", 100.0 * a->steal_fraction);
    if (isfinite(a->others_fraction))
        snprintf(others, sizeof others, "%.1f %%", 100.0 * a->others_fraction);
    smt_text(smt, sizeof smt, a);
    snprintf(buf, len,
             "clock %s measured, %s nominal%s; governor %s; boost %s; SMT %s; steal %s, others "
             "%s%s",
             measured, nominal, c2c, a->governor ? a->governor : "?",
             a->boost < 0 ? "?" : on_off(a->boost), smt, steal, others,
             a->disturbed ? "; DISTURBED" : "");
}

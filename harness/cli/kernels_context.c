/* `specbias kernels`: what Google Benchmark's context records about the machine and the
 * counters (kernels.h). */
#include "harness/cli/bench_shim.h"
#include "harness/cli/kernels.h"
#include "harness/machine/context.h"
#include "harness/machine/counters.h"

#include <jansson.h>
#include <stdio.h>

/* The machine in Google Benchmark's context: the kernels block for its caches, as in
 * `specbias run`, and one thread's memory bandwidth for the roofline (the kernels run on one
 * thread). Returns that bandwidth in GB/s, 0 when unknown. */
double sb_kernels_machine_context(int listing)
{
    json_t *topology = sb_topology_json();
    json_t *blocking = sb_apply_cache_blocking(topology);
    double bandwidth = 0.0;
    char val[512];
    if (!listing) {
        snprintf(val, sizeof val, "%lld",
                 (long long)json_integer_value(json_object_get(blocking, "l1d_bytes")));
        sb_bench_add_context("blocking_l1d_bytes", val);
        snprintf(val, sizeof val, "%lld",
                 (long long)json_integer_value(json_object_get(blocking, "l1d_ways")));
        sb_bench_add_context("blocking_l1d_ways", val);
        snprintf(val, sizeof val, "%lld",
                 (long long)json_integer_value(json_object_get(blocking, "l2_bytes")));
        sb_bench_add_context("blocking_l2_bytes", val);
        sb_bench_add_context("blocking_source",
                             json_string_value(json_object_get(blocking, "source")));
        json_t *bw = sb_bandwidth_json(1, topology);
        if (json_is_number(json_object_get(bw, "one_thread"))) {
            bandwidth = json_number_value(json_object_get(bw, "one_thread"));
            snprintf(val, sizeof val, "%.2f", bandwidth);
            sb_bench_add_context("bandwidth_gbs_1thread", val);
            snprintf(val, sizeof val, "%lld",
                     (long long)json_integer_value(json_object_get(bw, "array_bytes")));
            sb_bench_add_context("bandwidth_array_bytes", val);
        } else {
            snprintf(val, sizeof val, "unavailable: %s",
                     json_string_value(json_object_get(bw, "reason")));
            sb_bench_add_context("bandwidth_gbs_1thread", val);
            fprintf(stderr,
                    "specbias kernels: warning: no bandwidth, so no roofline_fraction: %s\n",
                    json_string_value(json_object_get(bw, "reason")));
        }
        json_decref(bw);
    }
    json_decref(blocking);
    json_decref(topology);
    return bandwidth;
}

/* The --counters events, each one's status in the context. Returns 0, or -1 with the message
 * printed. */
int sb_kernels_open_counters(struct sb_counters *counters, const char *list, int listing)
{
    char cerr[256];
    if (sb_counters_open(counters, list, stderr, "specbias kernels", cerr, sizeof cerr)) {
        fprintf(stderr, "specbias kernels: --counters: %s\n", cerr);
        return -1;
    }
    size_t e;
    json_t *ev;
    json_array_foreach(json_object_get(counters->status, "events"), e, ev)
    {
        char key[160], val[1200];
        const json_t *why = json_object_get(ev, "reason"), *src = json_object_get(ev, "source");
        snprintf(key, sizeof key, "counter %s", json_string_value(json_object_get(ev, "name")));
        snprintf(val, sizeof val, "%s%s%s%s%s", json_string_value(json_object_get(ev, "status")),
                 src ? " by " : "", src ? json_string_value(src) : "", why ? ": " : "",
                 why ? json_string_value(why) : "");
        if (!listing) sb_bench_add_context(key, val);
    }
    return 0;
}

// The C shim over Google Benchmark declared in harness/cli/bench_shim.h.
#include "harness/cli/bench_shim.h"

#include <algorithm>
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace {

// The benchmark whose buffers are prepared now (see sb_bench_register).
const sb_bench_spec *g_current = nullptr;
bool g_current_ok = false;

void release_current()
{
    if (g_current && g_current_ok && g_current->teardown) g_current->teardown(g_current->ctx);
    g_current = nullptr;
    g_current_ok = false;
}

bool prepare(const sb_bench_spec *spec)
{
    if (g_current == spec) return g_current_ok;
    release_current();
    g_current = spec;
    g_current_ok = !spec->setup || spec->setup(spec->ctx) == 0;
    return g_current_ok;
}

} // namespace

extern "C" void sb_bench_register(const struct sb_bench_spec *spec_in)
{
    // The spec is copied so the caller may reuse its struct; the benchmark owns the copy (a
    // bare `new` here was a leak LeakSanitizer reported once Google Benchmark's registry was
    // destroyed at exit).
    const auto spec = std::make_shared<const sb_bench_spec>(*spec_in);
    benchmark::RegisterBenchmark(spec->name, [spec](benchmark::State &state) {
        if (!prepare(spec.get())) {
            state.SkipWithError("could not allocate the benchmark's buffers");
            return;
        }
        sb_bench_body *const body = spec->body;
        void *const ctx = spec->ctx;
        if (spec->counters_begin) spec->counters_begin(spec->counters);
        const auto t0 = std::chrono::steady_clock::now();
        for (auto _ : state) body(ctx);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        using C = benchmark::Counter;
        if (spec->counters_end) {
            double values[64] = {0};
            spec->counters_end(spec->counters, values);
            for (size_t i = 0; i < spec->n_counters && i < 64; i++)
                state.counters[spec->counter_names[i]] = C(values[i], C::kAvgIterations);
        }
        state.counters["FLOP/s"] = C(spec->flops_per_iter, C::kIsIterationInvariantRate);
        state.counters["bytes/s"] = C(spec->bytes_per_iter, C::kIsIterationInvariantRate);
        state.counters["intensity"] =
            C(spec->bytes_per_iter > 0 ? spec->flops_per_iter / spec->bytes_per_iter : 0.0);
        state.counters["flops_per_iter"] = C(spec->flops_per_iter);
        const double gflops = seconds > 0 ? spec->flops_per_iter *
                                                static_cast<double>(state.iterations()) /
                                                seconds / 1e9
                                          : 0.0;
        const double peak = spec->peak ? spec->peak(spec->peak_ctx, gflops) : 0.0;
        if (peak > 0 && gflops > peak) {
            char label[160];
            std::snprintf(label, sizeof label,
                          "%.1f GFLOP/s, above the re-measured peak of %.1f: no peak_fraction",
                          gflops, peak);
            state.SetLabel(label);
        } else if (peak > 0) {
            state.counters["peak_fraction"] = C(gflops / peak);
        }
        if (peak > 0 && spec->bandwidth_gbs > 0 && spec->bytes_per_iter > 0 &&
            spec->flops_per_iter > 0) {
            /* the roofline's bound at this kernel's declared intensity (none for kernels that
             * do no arithmetic: the bound would be 0) */
            const double intensity = spec->flops_per_iter / spec->bytes_per_iter;
            const double bound = std::min(peak, intensity * spec->bandwidth_gbs);
            state.counters["roofline_fraction"] = C(gflops / bound);
        }
    })->UseRealTime();
}

extern "C" void sb_bench_add_context(const char *key, const char *value)
{
    benchmark::AddCustomContext(key, value);
}

extern "C" int sb_bench_init(int argc, char **argv)
{
    benchmark::Initialize(&argc, argv);
    return benchmark::ReportUnrecognizedArguments(argc, argv) ? 2 : 0;
}

extern "C" size_t sb_bench_run(void)
{
    const size_t ran = benchmark::RunSpecifiedBenchmarks();
    release_current();
    benchmark::Shutdown();
    return ran;
}

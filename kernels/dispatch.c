/* Runtime dispatch: detect CPU features once, hand out only tables the CPU and OS can
 * execute (no run can reach an instruction its CPU lacks), honour SPECBIAS_ISA. The harness
 * and scalar code build for the baseline target; only kernels/<isa>/ sources carry ISA
 * flags. */
#define _GNU_SOURCE
#include "specbias/kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define SB_ARCH_X86 1
#include <cpuid.h>
#elif defined(__aarch64__)
#define SB_ARCH_ARM64 1
#include <sys/auxv.h>
#endif

extern const struct sb_kernels sb_kernels__scalar;
#ifdef SB_HAVE_AVX2
extern const struct sb_kernels sb_kernels__avx2;
#endif
#ifdef SB_HAVE_AVX512
extern const struct sb_kernels sb_kernels__avx512;
#endif
#ifdef SB_HAVE_NEON
extern const struct sb_kernels sb_kernels__neon;
#endif

static const char *const isa_names[SB_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

const char *sb_isa_name(enum sb_isa isa)
{
    return (unsigned)isa < SB_ISA_COUNT ? isa_names[isa] : "?";
}

int sb_isa_parse(const char *name, enum sb_isa *isa)
{
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            *isa = (enum sb_isa)i;
            return 0;
        }
    }
    return -1;
}

const struct sb_kernels *sb_kernels_for(enum sb_isa isa)
{
    switch (isa) {
    case SB_ISA_SCALAR: return &sb_kernels__scalar;
#ifdef SB_HAVE_AVX2
    case SB_ISA_AVX2: return &sb_kernels__avx2;
#endif
#ifdef SB_HAVE_AVX512
    case SB_ISA_AVX512: return &sb_kernels__avx512;
#endif
#ifdef SB_HAVE_NEON
    case SB_ISA_NEON: return &sb_kernels__neon;
#endif
    default: return NULL;
    }
}

/* Why each ISA cannot run, or NULL when it can; computed once. */
static const char *unsupported[SB_ISA_COUNT];
static int detected;

#ifdef SB_ARCH_X86
static uint64_t xgetbv0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static void detect_x86(void)
{
    unsigned a, b, c, d;
    unsigned c1 = 0, b7 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) c1 = c;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) b7 = b;
    const int osxsave = (c1 >> 27) & 1;
    const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    /* XCR0 bits: 1 SSE, 2 AVX (YMM upper halves), 5-7 AVX-512 opmask and ZMM state. */
    const int os_avx = (xcr0 & 0x6) == 0x6;
    const int os_avx512 = os_avx && (xcr0 & 0xE0) == 0xE0;

    if (!((c1 >> 28) & 1)) unsupported[SB_ISA_AVX2] = "the CPU lacks AVX";
    else if (!((b7 >> 5) & 1)) unsupported[SB_ISA_AVX2] = "the CPU lacks AVX2";
    else if (!((c1 >> 12) & 1)) unsupported[SB_ISA_AVX2] = "the CPU lacks FMA";
    else if (!os_avx) unsupported[SB_ISA_AVX2] = "the OS does not save AVX state (XGETBV)";

    if (unsupported[SB_ISA_AVX2]) unsupported[SB_ISA_AVX512] = unsupported[SB_ISA_AVX2];
    else if (!((b7 >> 16) & 1)) unsupported[SB_ISA_AVX512] = "the CPU lacks AVX512F";
    else if (!((b7 >> 17) & 1)) unsupported[SB_ISA_AVX512] = "the CPU lacks AVX512DQ";
    else if (!((b7 >> 30) & 1)) unsupported[SB_ISA_AVX512] = "the CPU lacks AVX512BW";
    else if (!((b7 >> 31) & 1)) unsupported[SB_ISA_AVX512] = "the CPU lacks AVX512VL";
    else if (!os_avx512) unsupported[SB_ISA_AVX512] = "the OS does not save AVX-512 state (XGETBV)";

    unsupported[SB_ISA_NEON] = "NEON is an aarch64 ISA and this is an x86-64 build";
}
#endif

#ifdef SB_ARCH_ARM64
static void detect_arm64(void)
{
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
    if (!(getauxval(AT_HWCAP) & HWCAP_ASIMD)) unsupported[SB_ISA_NEON] = "the CPU lacks ASIMD (NEON)";
    unsupported[SB_ISA_AVX2] = "AVX2 is an x86-64 ISA and this is an aarch64 build";
    unsupported[SB_ISA_AVX512] = "AVX-512 is an x86-64 ISA and this is an aarch64 build";
}
#endif

static void detect(void)
{
    if (detected) return;
#if defined(SB_ARCH_X86)
    detect_x86();
#elif defined(SB_ARCH_ARM64)
    detect_arm64();
#else
    unsupported[SB_ISA_AVX2] = unsupported[SB_ISA_AVX512] = unsupported[SB_ISA_NEON] =
        "this build has only the scalar kernels for this architecture";
#endif
    for (int i = 0; i < SB_ISA_COUNT; i++)
        if (!unsupported[i] && !sb_kernels_for((enum sb_isa)i))
            unsupported[i] = "this build does not contain its kernels";
    detected = 1;
}

int sb_isa_supported(enum sb_isa isa, const char **why)
{
    if ((unsigned)isa >= SB_ISA_COUNT) {
        if (why) *why = "unknown ISA";
        return 0;
    }
    detect();
    if (why) *why = unsupported[isa];
    return unsupported[isa] == NULL;
}

enum sb_isa sb_isa_auto(void)
{
    /* Widest first. Available is not profitable (BLIS counts FMA units before it picks
     * AVX-512): on parts where AVX-512 runs at half rate this may not be the fastest, which is
     * why every ISA stays selectable by name. */
    static const enum sb_isa order[] = {SB_ISA_AVX512, SB_ISA_AVX2, SB_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (sb_isa_supported(order[i], NULL)) return order[i];
    return SB_ISA_SCALAR;
}

const struct sb_kernels *sb_select(const char *request, char *err, size_t errlen)
{
    const char *source = "";
    if (!request) {
        request = getenv("SPECBIAS_ISA");
        source = " (from SPECBIAS_ISA)";
        if (!request || !*request) request = "auto";
    }
    enum sb_isa isa;
    if (strcmp(request, "auto") == 0) {
        isa = sb_isa_auto();
    } else if (sb_isa_parse(request, &isa) != 0) {
        /* the choices from isa_names, so a new ISA is offered without another edit here */
        char choices[64] = "auto";
        for (int i = 0; i < SB_ISA_COUNT; i++) {
            size_t used = strlen(choices);
            snprintf(choices + used, sizeof choices - used, "%s%s",
                     i + 1 < SB_ISA_COUNT ? ", " : " or ", isa_names[i]);
        }
        snprintf(err, errlen, "ISA '%s'%s is unknown (choose %s)", request, source, choices);
        return NULL;
    }
    const char *why = NULL;
    if (!sb_isa_supported(isa, &why)) {
        snprintf(err, errlen, "ISA '%s'%s cannot run here: %s", request, source, why);
        return NULL;
    }
    return sb_kernels_for(isa);
}

const char *sb_cpu_model(void)
{
    static char model[128];
    if (model[0]) return model;
#ifdef SB_ARCH_X86
    unsigned r[12];
    if (__get_cpuid(0x80000000u, &r[0], &r[1], &r[2], &r[3]) && r[0] >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        char brand[49];
        memcpy(brand, r, 48);
        brand[48] = 0;
        const char *p = brand;
        while (*p == ' ') p++;
        snprintf(model, sizeof model, "%s", p);
        size_t n = strlen(model);
        while (n && model[n - 1] == ' ') model[--n] = 0;
    }
#else
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0) {
                const char *p = strchr(line, ':');
                if (p) {
                    p++;
                    while (*p == ' ') p++;
                    snprintf(model, sizeof model, "%s", p);
                    model[strcspn(model, "\n")] = 0;
                    break;
                }
            }
        }
        fclose(f);
    }
#endif
    if (!model[0]) snprintf(model, sizeof model, "unknown");
    return model;
}

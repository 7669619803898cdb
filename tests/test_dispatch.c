/* Dispatch: every ISA can be forced when the CPU runs it; forcing one it cannot run, or an
 * unknown name, is a clear error and never hands out a table; SPECBIAS_ISA is honoured. */
#define _POSIX_C_SOURCE 200809L
#include "specbias/kernels.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_force_each_isa(void **state)
{
    (void)state;
    int supported = 0;
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        const enum sb_isa isa = (enum sb_isa)i;
        const char *why = NULL;
        char err[256] = "";
        const struct sb_kernels *k = sb_select(sb_isa_name(isa), err, sizeof err);
        if (sb_isa_supported(isa, &why)) {
            supported++;
            assert_non_null(k);
            assert_int_equal(k->isa, isa);
            assert_string_equal(k->isa_name, sb_isa_name(isa));
            printf("  %-7s selectable\n", sb_isa_name(isa));
        } else {
            assert_null(k);
            assert_non_null(why);
            assert_non_null(strstr(err, "cannot run here"));
            assert_non_null(strstr(err, why)); /* the message says why */
            printf("  %-7s refused: %s\n", sb_isa_name(isa), err);
        }
    }
    assert_true(sb_isa_supported(SB_ISA_SCALAR, NULL)); /* the reference always runs */
    assert_true(supported >= 1);
}

static void test_unknown_name(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(sb_select("avx1024", err, sizeof err));
    assert_non_null(strstr(err, "'avx1024'"));
    assert_non_null(strstr(err, "unknown"));
    enum sb_isa isa;
    assert_int_equal(sb_isa_parse("sse9", &isa), -1);
}

static void test_environment_override(void **state)
{
    (void)state;
    char err[256] = "";
    setenv("SPECBIAS_ISA", "scalar", 1);
    const struct sb_kernels *k = sb_select(NULL, err, sizeof err);
    assert_non_null(k);
    assert_int_equal(k->isa, SB_ISA_SCALAR);
    setenv("SPECBIAS_ISA", "", 1); /* empty means auto */
    k = sb_select(NULL, err, sizeof err);
    assert_non_null(k);
    assert_int_equal(k->isa, sb_isa_auto());
    /* an ISA this machine cannot run, named through the environment */
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        if (sb_isa_supported((enum sb_isa)i, NULL)) continue;
        setenv("SPECBIAS_ISA", sb_isa_name((enum sb_isa)i), 1);
        assert_null(sb_select(NULL, err, sizeof err));
        assert_non_null(strstr(err, "SPECBIAS_ISA"));
    }
    /* an explicit request wins over the environment */
    setenv("SPECBIAS_ISA", "bogus", 1);
    k = sb_select("scalar", err, sizeof err);
    assert_non_null(k);
    unsetenv("SPECBIAS_ISA");
}

static void test_tables_complete(void **state)
{
    (void)state;
    for (int i = 0; i < SB_ISA_COUNT; i++) {
        const struct sb_kernels *k = sb_kernels_for((enum sb_isa)i);
        if (!k) continue;
#define SB_KERNEL(name, type) \
    if (!k->name) fail_msg("%s table lacks %s", k->isa_name, #name);
#include "specbias/kernel_list.inc"
#undef SB_KERNEL
    }
    assert_true(sb_isa_supported(sb_isa_auto(), NULL));
    assert_string_equal(sb_kernel_name(SB_K_dense_relu_fwd), "dense_relu_fwd");
    assert_true(strlen(sb_cpu_model()) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_force_each_isa),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_environment_override),
        cmocka_unit_test(test_tables_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

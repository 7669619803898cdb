/* specbias compare: the growable lists of samples and of messages (compare.h). */
#define _POSIX_C_SOURCE 200809L
#include "harness/compare/compare.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_vec_push(struct vec *a, double x)
{
    if (a->n == a->cap) {
        const size_t cap = a->cap ? 2 * a->cap : 8;
        double *v = realloc(a->v, cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

void sb_vec_free(struct vec *a)
{
    free(a->v);
    *a = (struct vec){0};
}

__attribute__((format(printf, 2, 3))) void sb_strlist_addf(struct strlist *l, const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (l->n == l->cap) {
        const size_t cap = l->cap ? 2 * l->cap : 16;
        char **s = realloc(l->s, cap * sizeof *s);
        if (!s) {
            l->oom = 1;
            return;
        }
        l->s = s;
        l->cap = cap;
    }
    char *copy = strdup(buf);
    if (!copy) {
        l->oom = 1;
        return;
    }
    l->s[l->n++] = copy;
}

void sb_strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->s[i]);
    free(l->s);
    *l = (struct strlist){0};
}

/* Appends copies of src's messages to dst. */
void sb_strlist_add_all(struct strlist *dst, const struct strlist *src)
{
    for (size_t i = 0; i < src->n; i++) sb_strlist_addf(dst, "%s", src->s[i]);
    dst->oom |= src->oom;
}

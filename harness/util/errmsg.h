/* Error messages returned as values (docs/contributing.md, Style): the callee fills err, the
 * command prints it once. */
#ifndef SPECBIAS_HARNESS_ERRMSG_H
#define SPECBIAS_HARNESS_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline void sb_errorf(char *err, size_t errlen,
                                                                    const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#endif

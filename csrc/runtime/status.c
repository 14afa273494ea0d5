/* status.c — the thread-local error message behind sl_last_error(). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"

#define SL_MSG_CAP 1024
static _Thread_local char sl_msg[SL_MSG_CAP];

const char *sl_last_error(void) { return sl_msg; }

void sl_clear_error(void) { sl_msg[0] = '\0'; }

sl_status sl_fail(sl_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sl_msg, SL_MSG_CAP, fmt, ap);
    va_end(ap);
    return st;
}

sl_status sl_fail_in(const char *func, sl_status st, const char *fmt, ...)
{
    int n = snprintf(sl_msg, SL_MSG_CAP, "%s: ", func);
    if (n < 0 || n >= SL_MSG_CAP) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sl_msg + n, SL_MSG_CAP - (size_t)n, fmt, ap);
    va_end(ap);
    return st;
}

sl_status sl_fail_context(sl_status st, const char *fmt, ...)
{
    char old[SL_MSG_CAP];
    memcpy(old, sl_msg, SL_MSG_CAP);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sl_msg, SL_MSG_CAP, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if (n < SL_MSG_CAP) snprintf(sl_msg + n, SL_MSG_CAP - (size_t)n, "%s", old);
    return st;
}

/* threads.c — how many threads to use by default: the number of physical cores. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"

static int count_physical_cores(void)
{
    /* Count distinct (physical id, core id) pairs in /proc/cpuinfo; fall back to online CPUs. */
    FILE *f = fopen("/proc/cpuinfo", "r");
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (!f) return online > 0 ? (int)online : 1;
    char line[256];
    int phys = -1, seen = 0;
    int pairs[1024][2];
    while (fgets(line, sizeof line, f)) {
        int v;
        if (sscanf(line, "physical id : %d", &v) == 1) phys = v;
        else if (sscanf(line, "core id : %d", &v) == 1) {
            int dup = 0;
            for (int i = 0; i < seen; i++) dup |= pairs[i][0] == phys && pairs[i][1] == v;
            if (!dup && seen < 1024) { pairs[seen][0] = phys; pairs[seen][1] = v; seen++; }
        }
    }
    fclose(f);
    if (seen <= 0) return online > 0 ? (int)online : 1;
    if (online > 0 && seen > online) seen = (int)online;
    return seen;
}

int sl_runtime_physical_cores(void)
{
    static int cached;  /* written once; a benign race computes the same value */
    if (cached <= 0) cached = count_physical_cores();
    return cached;
}

int sl_threads_resolve(int n_threads)
{
    if (n_threads <= 0) n_threads = sl_runtime_physical_cores();
    if (n_threads > 512) n_threads = 512;
    return n_threads < 1 ? 1 : n_threads;
}

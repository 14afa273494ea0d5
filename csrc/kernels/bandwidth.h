/* bandwidth.h — memory read-bandwidth probe (bandwidth.c). */
#ifndef SL_BANDWIDTH_H
#define SL_BANDWIDTH_H

#include <stddef.h>

#include "solar.h"

/* Read an array of mbytes MiB with n_threads threads (<= 0: physical cores), repeats times;
 * *gbps = the best pass in GB/s (1e9 bytes per second), as STREAM reports. */
sl_status sl_bench_read_bandwidth(size_t mbytes, int n_threads, int repeats, double *gbps);

#endif /* SL_BANDWIDTH_H */

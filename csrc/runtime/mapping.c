/* mapping.c — read-only memory mappings of whole files, and small whole-file reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

static sl_status open_regular(const char *path, int *fd_out, size_t *size_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SL_FAIL(errno == ENOENT ? SL_ERR_NOT_FOUND : SL_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SL_FAIL(SL_ERR_IO, "%s: not a regular file", path);
    }
    *fd_out = fd;
    *size_out = (size_t)st.st_size;
    return SL_OK;
}

sl_status sl_mapping_open(sl_mapping *m, const char *path)
{
    memset(m, 0, sizeof *m);
    int fd;
    size_t size;
    SL_TRY(open_regular(path, &fd, &size));
    m->path = sl_strdup(path);
    if (!m->path) { close(fd); return SL_ERR_NOMEM; }
    if (size > 0) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            sl_status st = SL_FAIL(SL_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
            close(fd);
            sl_mapping_close(m);
            return st;
        }
        m->data = p;
    }
    m->size = size;
    close(fd);
    return SL_OK;
}

void sl_mapping_close(sl_mapping *m)
{
    if (!m) return;
    if (m->data) munmap((void *)m->data, m->size);
    free(m->path);
    memset(m, 0, sizeof *m);
}

void sl_mapping_forget(const void *p, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!p || n == 0 || page <= 0) return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~((uintptr_t)page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

sl_status sl_read_file(const char *path, char **out, size_t *len)
{
    int fd;
    size_t size;
    SL_TRY(open_regular(path, &fd, &size));
    char *buf = malloc(size + 1);
    if (!buf) { close(fd); return SL_FAIL(SL_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, size); }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { free(buf); close(fd); return SL_FAIL(SL_ERR_IO, "%s: read failed", path); }
        got += (size_t)r;
    }
    close(fd);
    buf[size] = '\0';
    *out = buf;
    if (len) *len = size;
    return SL_OK;
}

/*
 * Memory limit defaults, resident-set readings, and the registry of temporary directories
 * that a signal handler may remove (docs/MEMORY.md).
 *
 * The registry is a fixed array of path slots: registering copies the path and then marks
 * the slot used, so a handler that runs at any moment sees either no path or a whole one.
 * Removal (prw__remove_dir) uses only async-signal-safe calls.
 */
#define _GNU_SOURCE /* syscall(), SYS_getdents64 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build/bd_internal.h"
#include "common/io.h"

#define TEMP_SLOTS 8
#define TEMP_PATH 4200

static char g_temp[TEMP_SLOTS][TEMP_PATH];
static _Atomic int g_temp_state[TEMP_SLOTS]; /* 0 free, 1 being filled, 2 registered */

static uint64_t read_u64_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[64] = {0};
    uint64_t v = 0;
    if (fgets(line, sizeof line, f) && line[0] >= '0' && line[0] <= '9')
        v = strtoull(line, NULL, 10);
    fclose(f);
    return v;
}

uint64_t prw__pl_default_memory_limit(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    uint64_t cg = read_u64_file("/sys/fs/cgroup/memory.max"); /* "max" reads as 0 */
    if (cg == 0)
        cg = read_u64_file("/sys/fs/cgroup/memory/memory.limit_in_bytes"); /* cgroup v1 */
    uint64_t m = phys;
    if (cg > 0 && (m == 0 || cg < m))
        m = cg;
    return m ? m / 2 : (uint64_t)1 << 30;
}

int64_t prw__pl_peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    int64_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtoll(line + 6, NULL, 10);
    fclose(f);
    return kb * 1024;
}

int prw__pl_temp_register(const char *dir) {
    size_t n = strlen(dir);
    if (n >= TEMP_PATH)
        return -1;
    for (int i = 0; i < TEMP_SLOTS; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&g_temp_state[i], &expect, 1)) {
            memcpy(g_temp[i], dir, n + 1);
            atomic_store(&g_temp_state[i], 2);
            return i;
        }
    }
    return -1;
}

void prw__pl_temp_unregister(int slot) {
    if (slot >= 0 && slot < TEMP_SLOTS)
        atomic_store(&g_temp_state[slot], 0);
}

/* The linux_dirent64 layout getdents64 fills in. */
void prw_build_remove_temp_files(void) {
    for (int i = 0; i < TEMP_SLOTS; i++)
        if (atomic_load(&g_temp_state[i]) == 2)
            prw__remove_dir(g_temp[i]);
}

/* count_alloc.c - an LD_PRELOAD library that counts heap allocations (malloc, calloc,
 * realloc, the aligned ones) of the process it is loaded into, for the benchmark's
 * "allocations per request". The count is a 64-bit integer in a shared mapping of the file
 * ARB_ALLOC_COUNTER names, so tests/bench/run.sh reads it while the process runs
 * (od -An -tu8 -N8 FILE); without that variable it is kept in memory only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
uint64_t arb_alloc_calls(void);
void *memalign(size_t alignment, size_t size);

static _Atomic uint64_t local_count;
static _Atomic uint64_t *count = &local_count;

__attribute__((constructor)) static void map_counter(void)
{
    const char *path = getenv("ARB_ALLOC_COUNTER");
    if (path == NULL || path[0] == '\0')
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    void *shared = MAP_FAILED;
    if (ftruncate(fd, sizeof(uint64_t)) == 0)
        shared = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (shared != MAP_FAILED) {
        atomic_store((_Atomic uint64_t *)shared, atomic_load(&local_count));
        count = shared;
    }
}

static void counted(void)
{
    atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
}

uint64_t arb_alloc_calls(void)
{
    return atomic_load(count);
}

void *malloc(size_t size)
{
    counted();
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    counted();
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    counted();
    return __libc_realloc(p, size);
}

void *memalign(size_t alignment, size_t size)
{
    counted();
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    counted();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    counted();
    void *p = __libc_memalign(alignment, size);
    if (p == NULL)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

/* c11threads.c - C11 threads as pthreads, for the ThreadSanitizer build only (ARB_TSAN).
 *
 * librdkafka 2.0 (Debian 12) creates its threads with C11 thrd_create and locks with
 * mtx_lock / cnd_wait. glibc 2.36 implements those on its internal pthread functions,
 * which ThreadSanitizer (gcc 12's libtsan, clang 14's runtime) does not intercept: a thread
 * started by thrd_create is unknown to TSan and crashes in its first intercepted call
 * (SEGV in the allocator's per-thread cache, seen in getaddrinfo on rdk:broker-1), and the
 * locks librdkafka takes around the queues that hand our delivery reports between threads
 * would be invisible, so every report would look like a race. Linked into the executables,
 * these definitions take precedence over glibc's for librdkafka (the executable comes first
 * in symbol lookup) and forward to the pthread functions TSan does intercept. glibc's C11
 * types are its pthread types under other names (mtx_t and pthread_mutex_t have one layout,
 * thrd_t is pthread_t), exactly as its own implementation assumes. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int c11(int rc)
{
    switch (rc) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
    }
}

struct start {
    thrd_start_t func;
    void *arg;
};

static void *trampoline(void *opaque)
{
    struct start start = *(struct start *)opaque;
    free(opaque);
    return (void *)(intptr_t)start.func(start.arg); /* thrd_join reads it back as an int */
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    struct start *start = malloc(sizeof(*start));
    if (start == NULL)
        return thrd_nomem;
    start->func = func;
    start->arg = arg;
    int rc = pthread_create(thr, NULL, trampoline, start);
    if (rc != 0)
        free(start);
    return c11(rc);
}

int thrd_join(thrd_t thr, int *res)
{
    void *value = NULL;
    int rc = pthread_join(thr, &value);
    if (rc == 0 && res != NULL)
        *res = (int)(intptr_t)value;
    return c11(rc);
}

thrd_t thrd_current(void)
{
    return pthread_self();
}

int mtx_init(mtx_t *mtx, int type)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (type & mtx_recursive)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init((pthread_mutex_t *)mtx, &attr);
    pthread_mutexattr_destroy(&attr);
    return c11(rc);
}

int mtx_lock(mtx_t *mtx)
{
    return c11(pthread_mutex_lock((pthread_mutex_t *)mtx));
}

int mtx_unlock(mtx_t *mtx)
{
    return c11(pthread_mutex_unlock((pthread_mutex_t *)mtx));
}

void mtx_destroy(mtx_t *mtx)
{
    pthread_mutex_destroy((pthread_mutex_t *)mtx);
}

int cnd_init(cnd_t *cnd)
{
    return c11(pthread_cond_init((pthread_cond_t *)cnd, NULL));
}

int cnd_signal(cnd_t *cnd)
{
    return c11(pthread_cond_signal((pthread_cond_t *)cnd));
}

int cnd_broadcast(cnd_t *cnd)
{
    return c11(pthread_cond_broadcast((pthread_cond_t *)cnd));
}

int cnd_wait(cnd_t *cnd, mtx_t *mtx)
{
    return c11(pthread_cond_wait((pthread_cond_t *)cnd, (pthread_mutex_t *)mtx));
}

int cnd_timedwait(cnd_t *restrict cnd, mtx_t *restrict mtx, const struct timespec *restrict ts)
{
    return c11(pthread_cond_timedwait((pthread_cond_t *)cnd, (pthread_mutex_t *)mtx, ts));
}

void cnd_destroy(cnd_t *cnd)
{
    pthread_cond_destroy((pthread_cond_t *)cnd);
}

void call_once(once_flag *flag, void (*func)(void))
{
    pthread_once((pthread_once_t *)flag, func);
}

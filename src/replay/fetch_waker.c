/* fetch_waker.c - the thread that wakes librdkafka's fetcher (see fetch_waker.h).
 *
 * The delivery loop leaves a list of partitions and signals; the thread takes the list, asks
 * for each partition's watermarks, and waits for the next. Only the latest list waits: a wake
 * is a nudge, and a newer one covers an older. */
#include "fetch_waker.h"

#include "arb/mem.h"
#include "arb/route.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_TIMEOUT_MS 500 /* bounds how long a stop waits for a request under way */

struct wake_list {
    char topics[ARB_FETCH_WAKER_MAX][ARB_TOPIC_MAX + 1];
    int32_t partitions[ARB_FETCH_WAKER_MAX];
    size_t n;
};

struct arb_fetch_waker {
    rd_kafka_t *consumer;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct wake_list waiting; /* under lock */
    bool quit;                /* under lock */
};

static void wake_all(rd_kafka_t *consumer, const struct wake_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        int64_t low, high;
        rd_kafka_query_watermark_offsets(consumer, list->topics[i], list->partitions[i], &low,
                                         &high, QUERY_TIMEOUT_MS);
    }
}

static void *run(void *opaque)
{
    struct arb_fetch_waker *waker = opaque;
    struct wake_list taken;

    pthread_mutex_lock(&waker->lock);
    for (;;) {
        while (!waker->quit && waker->waiting.n == 0)
            pthread_cond_wait(&waker->cond, &waker->lock);
        if (waker->quit)
            break;
        taken = waker->waiting;
        waker->waiting.n = 0;
        pthread_mutex_unlock(&waker->lock);
        wake_all(waker->consumer, &taken);
        pthread_mutex_lock(&waker->lock);
    }
    pthread_mutex_unlock(&waker->lock);
    return NULL;
}

struct arb_fetch_waker *arb_fetch_waker_new(rd_kafka_t *consumer)
{
    struct arb_fetch_waker *waker = arb_xcalloc(1, sizeof(*waker));

    waker->consumer = consumer;
    pthread_mutex_init(&waker->lock, NULL);
    pthread_cond_init(&waker->cond, NULL);
    if (pthread_create(&waker->thread, NULL, run, waker) != 0) {
        pthread_cond_destroy(&waker->cond);
        pthread_mutex_destroy(&waker->lock);
        free(waker);
        return NULL;
    }
    return waker;
}

void arb_fetch_waker_destroy(struct arb_fetch_waker *waker)
{
    if (waker == NULL)
        return;
    pthread_mutex_lock(&waker->lock);
    waker->quit = true;
    pthread_cond_signal(&waker->cond);
    pthread_mutex_unlock(&waker->lock);
    pthread_join(waker->thread, NULL);
    pthread_cond_destroy(&waker->cond);
    pthread_mutex_destroy(&waker->lock);
    free(waker);
}

void arb_fetch_waker_wake(struct arb_fetch_waker *waker, const char *const *topics,
                          const int32_t *partitions, size_t n)
{
    if (waker == NULL || n == 0)
        return;
    pthread_mutex_lock(&waker->lock);
    waker->waiting.n = 0;
    for (size_t i = 0; i < n && i < ARB_FETCH_WAKER_MAX; i++) {
        size_t len = strlen(topics[i]);
        if (len > ARB_TOPIC_MAX)
            continue;
        memcpy(waker->waiting.topics[waker->waiting.n], topics[i], len + 1);
        waker->waiting.partitions[waker->waiting.n++] = partitions[i];
    }
    pthread_cond_signal(&waker->cond);
    pthread_mutex_unlock(&waker->lock);
}

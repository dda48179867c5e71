/* kafka.c - librdkafka configuration, log routing and reachability (see kafka.h). */
#include "kafka.h"

#include "arb/log.h"
#include "arb/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define HEALTH_INTERVAL_S 1
#define HEALTH_TIMEOUT_MS 2000

static enum arb_log_level level_of_syslog(int level)
{
    if (level <= 3)
        return ARB_LOG_ERROR;
    if (level == 4)
        return ARB_LOG_WARN;
    if (level <= 6)
        return ARB_LOG_INFO;
    return ARB_LOG_DEBUG;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
    (void)rk;
    arb_log_kv(level_of_syslog(level), line, "component", "librdkafka", "facility", facility,
               NULL);
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, const char *file,
               int line, struct arb_conf_errors *errors)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
        return 0;
    arb_conf_errors_add(errors, file, line, "kafka: %s", errstr);
    return -1;
}

static int set_all(rd_kafka_conf_t *conf, const char *const *pairs, const char *file,
                   struct arb_conf_errors *errors)
{
    int failed = 0;
    for (size_t i = 0; pairs != NULL && pairs[i] != NULL; i += 2)
        failed |= set(conf, pairs[i], pairs[i + 1], file, 0, errors);
    return failed;
}

rd_kafka_conf_t *arb_kafka_conf_build(const struct arb_kafka_conf *kafka, const char *file,
                                      const char *const *defaults, const char *const *more,
                                      struct arb_conf_errors *errors)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int failed = 0;

    rd_kafka_conf_set_log_cb(conf, log_cb);
    failed |= set(conf, "bootstrap.servers", kafka->bootstrap, file, 0, errors);
    failed |= set_all(conf, defaults, file, errors);
    failed |= set_all(conf, more, file, errors);
    for (size_t i = 0; i < kafka->nproperties; i++) {
        const struct arb_kv *kv = &kafka->properties[i];
        failed |= set(conf, kv->key, kv->value, file, kv->line, errors);
    }
    if (failed) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

void arb_kafka_conf_get(rd_kafka_conf_t *conf, const char *name, char *out, size_t size)
{
    if (rd_kafka_conf_get(conf, name, out, &size) != RD_KAFKA_CONF_OK && size > 0)
        out[0] = '\0';
}

struct arb_kafka_health {
    rd_kafka_t *rk;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    atomic_bool ok;
};

static void check(struct arb_kafka_health *health)
{
    const struct rd_kafka_metadata *metadata = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(health->rk, 0, NULL, &metadata, HEALTH_TIMEOUT_MS);
    bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
    bool was = atomic_exchange(&health->ok, ok);

    if (metadata != NULL)
        rd_kafka_metadata_destroy(metadata);
    if (ok && !was)
        arb_log_kv(ARB_LOG_INFO, "kafka reachable", NULL);
    else if (!ok && was)
        arb_log_kv(ARB_LOG_WARN, "kafka unreachable", "error", rd_kafka_err2str(err), NULL);
}

static void *health_main(void *arg)
{
    struct arb_kafka_health *health = arg;
    pthread_mutex_lock(&health->lock);
    while (!health->stopping) {
        pthread_mutex_unlock(&health->lock);
        check(health);
        pthread_mutex_lock(&health->lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HEALTH_INTERVAL_S;
        if (!health->stopping)
            pthread_cond_timedwait(&health->wake, &health->lock, &until);
    }
    pthread_mutex_unlock(&health->lock);
    return NULL;
}

struct arb_kafka_health *arb_kafka_health_start(rd_kafka_t *rk)
{
    struct arb_kafka_health *health = arb_xcalloc(1, sizeof(*health));
    health->rk = rk;
    pthread_mutex_init(&health->lock, NULL);
    pthread_cond_init(&health->wake, NULL);
    atomic_init(&health->ok, false);
    if (pthread_create(&health->thread, NULL, health_main, health) != 0) {
        arb_log_kv(ARB_LOG_ERROR, "cannot start the Kafka health thread", NULL);
        abort(); /* like running out of memory: nothing sensible left to do */
    }
    return health;
}

bool arb_kafka_health_ok(const struct arb_kafka_health *health)
{
    return atomic_load(&health->ok);
}

void arb_kafka_health_mark_down(struct arb_kafka_health *health)
{
    atomic_store(&health->ok, false);
}

void arb_kafka_health_mark_up(struct arb_kafka_health *health)
{
    if (!atomic_exchange(&health->ok, true))
        arb_log_kv(ARB_LOG_INFO, "kafka reachable", NULL);
}

void arb_kafka_health_stop(struct arb_kafka_health *health)
{
    if (health == NULL)
        return;
    pthread_mutex_lock(&health->lock);
    health->stopping = true;
    pthread_cond_signal(&health->wake);
    pthread_mutex_unlock(&health->lock);
    pthread_join(health->thread, NULL);
    pthread_cond_destroy(&health->wake);
    pthread_mutex_destroy(&health->lock);
    free(health);
}

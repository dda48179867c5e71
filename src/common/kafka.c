/* kafka.c - librdkafka configuration and log routing (see kafka.h). */
#include "kafka.h"

#include "arb/log.h"

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

rd_kafka_conf_t *arb_kafka_conf_build(const struct arb_kafka_conf *kafka, const char *file,
                                      const char *const *defaults,
                                      struct arb_conf_errors *errors)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int failed = 0;

    rd_kafka_conf_set_log_cb(conf, log_cb);
    failed |= set(conf, "bootstrap.servers", kafka->bootstrap, file, 0, errors);
    for (size_t i = 0; defaults != NULL && defaults[i] != NULL; i += 2)
        failed |= set(conf, defaults[i], defaults[i + 1], file, 0, errors);
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

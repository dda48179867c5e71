/* mock_kafka.c - librdkafka's built-in mock cluster as a process of its own, for benchmarks:
 * a Kafka protocol peer that costs far less CPU than a JVM broker, so the bridge's own cost
 * shows on a small machine. NOT used by any test of Kafka behaviour (those use the real
 * broker). It prints its bootstrap address on stdout, creates the topics named on the
 * command line ("name:partitions"), and serves until SIGTERM/SIGINT.
 *
 *   mock-kafka [TOPIC:PARTITIONS]... */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int create_topics(rd_kafka_mock_cluster_t *cluster, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char name[256];
        int partitions = 0;
        const char *colon = strrchr(argv[i], ':');
        if (colon == NULL || (size_t)(colon - argv[i]) >= sizeof(name) ||
            (partitions = atoi(colon + 1)) <= 0) {
            fprintf(stderr, "mock-kafka: bad topic \"%s\" (use NAME:PARTITIONS)\n", argv[i]);
            return -1;
        }
        memcpy(name, argv[i], (size_t)(colon - argv[i]));
        name[colon - argv[i]] = '\0';
        if (rd_kafka_mock_topic_create(cluster, name, partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "mock-kafka: cannot create %s\n", name);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    char errstr[256];
    int status = 1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)); /* no CONFWARN noise */
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *cluster = NULL;

    if (rk == NULL) {
        fprintf(stderr, "mock-kafka: %s\n", errstr);
        return 1;
    }
    cluster = rd_kafka_mock_cluster_new(rk, 1);
    if (cluster == NULL || create_topics(cluster, argc, argv) != 0)
        goto out;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);
    while (!stop)
        pause();
    status = 0;
out:
    if (cluster != NULL)
        rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return status;
}

/* mock_kafka.c - librdkafka's built-in mock cluster as a process of its own: a Kafka
 * protocol peer that costs far less CPU than a JVM broker (the benchmarks), and that can
 * stage faults a real broker cannot (tests/faults/test_mock_*.sh). Tests of Kafka behaviour
 * otherwise use the real broker. It prints its bootstrap address on stdout, creates the
 * topics named on the command line ("name:partitions"), and serves until SIGTERM/SIGINT.
 *
 *   mock-kafka [TOPIC:PARTITIONS]...
 *
 * Commands, one per line on stdin (end of input just ends the commands), each answered on
 * stdout with "ok: LINE" once done, or "error: ...":
 *   errors API ERROR[*COUNT]...  push errors that the next API requests get, in order
 *                                (rd_kafka_mock_push_request_errors); COUNT repeats one
 *   clear API                    drop the errors of API still pushed
 *   rtt BROKER MS                delay every answer of BROKER (-1: all) by MS
 *   down BROKER / up BROKER      close BROKER's connections and refuse new ones / accept
 * API: produce, fetch, metadata, initproducerid, or a number (the protocol's ApiKey).
 * ERROR: a name as rd_kafka_err2name() prints it (NOT_ENOUGH_REPLICAS,
 * OUT_OF_ORDER_SEQUENCE_NUMBER, ...), or a number. The cluster has one broker, id 1. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_ERRORS 10000000

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

/* ---- commands ---- */

static int parse_int(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

static int parse_api(const char *text, int16_t *api)
{
    static const struct {
        const char *name;
        int16_t key;
    } apis[] = {{"produce", 0}, {"fetch", 1}, {"metadata", 3}, {"initproducerid", 22}};
    long key;
    for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
        if (strcasecmp(text, apis[i].name) == 0) {
            *api = apis[i].key;
            return 0;
        }
    if (parse_int(text, 0, 32767, &key) != 0)
        return -1;
    *api = (int16_t)key;
    return 0;
}

static int parse_error(const char *text, rd_kafka_resp_err_t *err)
{
    const struct rd_kafka_err_desc *descs = NULL;
    size_t count = 0;
    long code;
    if (parse_int(text, -200, 1000, &code) == 0) {
        *err = (rd_kafka_resp_err_t)code;
        return 0;
    }
    rd_kafka_get_err_descs(&descs, &count);
    for (size_t i = 0; i < count; i++)
        if (descs[i].name != NULL && strcasecmp(text, descs[i].name) == 0) {
            *err = descs[i].code;
            return 0;
        }
    return -1;
}

/* "errors API ERROR[*COUNT]...": the tokens after the command. */
static const char *push_errors(rd_kafka_mock_cluster_t *cluster, char *args)
{
    int16_t api;
    char *token = strtok(args, " \t");
    rd_kafka_resp_err_t *errors = NULL;
    size_t n = 0, cap = 0;
    const char *problem = NULL;

    if (token == NULL || parse_api(token, &api) != 0)
        return "errors: expected an API (produce, fetch, metadata, initproducerid, a number)";
    while ((token = strtok(NULL, " \t")) != NULL) {
        rd_kafka_resp_err_t err;
        long times = 1;
        char *star = strchr(token, '*');
        if (star != NULL) {
            *star = '\0';
            if (parse_int(star + 1, 1, MAX_ERRORS, &times) != 0) {
                problem = "errors: bad *COUNT";
                goto out;
            }
        }
        if (parse_error(token, &err) != 0) {
            problem = "errors: unknown error name (see rd_kafka_err2name)";
            goto out;
        }
        if (n + (size_t)times > MAX_ERRORS) {
            problem = "errors: too many";
            goto out;
        }
        if (n + (size_t)times > cap) {
            cap = n + (size_t)times;
            rd_kafka_resp_err_t *grown = realloc(errors, cap * sizeof(*errors));
            if (grown == NULL) {
                problem = "errors: out of memory";
                goto out;
            }
            errors = grown;
        }
        while (times-- > 0)
            errors[n++] = err;
    }
    if (n == 0) {
        problem = "errors: expected at least one ERROR";
        goto out;
    }
    rd_kafka_mock_push_request_errors_array(cluster, api, n, errors);
out:
    free(errors);
    return problem;
}

static const char *broker_command(rd_kafka_mock_cluster_t *cluster, const char *command,
                                  char *args)
{
    long broker, ms = 0;
    char *id = strtok(args, " \t"), *value = strtok(NULL, " \t");
    if (id == NULL || parse_int(id, -1, 1000, &broker) != 0)
        return "expected a broker id (-1: all)";
    if (strcmp(command, "rtt") == 0) {
        if (value == NULL || parse_int(value, 0, 3600000, &ms) != 0)
            return "rtt: expected milliseconds";
        rd_kafka_mock_broker_set_rtt(cluster, (int32_t)broker, (int)ms);
    } else if (strcmp(command, "down") == 0) {
        rd_kafka_mock_broker_set_down(cluster, (int32_t)broker);
    } else {
        rd_kafka_mock_broker_set_up(cluster, (int32_t)broker);
    }
    return NULL;
}

/* Run one command line; NULL when done, else what was wrong. */
static const char *run_command(rd_kafka_mock_cluster_t *cluster, char *line)
{
    char *command = strtok(line, " \t");
    char *args = strtok(NULL, "");
    int16_t api;

    if (command == NULL)
        return "empty command";
    if (args == NULL)
        args = command + strlen(command); /* "" */
    if (strcmp(command, "errors") == 0)
        return push_errors(cluster, args);
    if (strcmp(command, "clear") == 0) {
        char *name = strtok(args, " \t");
        if (name == NULL || parse_api(name, &api) != 0)
            return "clear: expected an API";
        rd_kafka_mock_clear_request_errors(cluster, api);
        return NULL;
    }
    if (strcmp(command, "rtt") == 0 || strcmp(command, "down") == 0 ||
        strcmp(command, "up") == 0)
        return broker_command(cluster, command, args);
    return "unknown command (errors, clear, rtt, down, up)";
}

/* Commands from stdin until its end or a signal; then wait for the signal. */
static void serve(rd_kafka_mock_cluster_t *cluster)
{
    char line[1024], copy[1024];
    while (!stop && fgets(line, sizeof(line), stdin) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        snprintf(copy, sizeof(copy), "%s", line);
        const char *problem = run_command(cluster, line);
        if (problem != NULL)
            printf("error: %s: %s\n", copy, problem);
        else
            printf("ok: %s\n", copy);
        fflush(stdout);
    }
    while (!stop)
        pause();
}

int main(int argc, char **argv)
{
    char errstr[256];
    int status = 1;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)); /* no CONFWARN noise */
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *cluster = NULL;
    struct sigaction sa;

    if (rk == NULL) {
        fprintf(stderr, "mock-kafka: %s\n", errstr);
        return 1;
    }
    cluster = rd_kafka_mock_cluster_new(rk, 1);
    if (cluster == NULL || create_topics(cluster, argc, argv) != 0)
        goto out;
    /* Without SA_RESTART: a signal ends a read of stdin that waits. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);
    serve(cluster);
    status = 0;
out:
    if (cluster != NULL)
        rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return status;
}

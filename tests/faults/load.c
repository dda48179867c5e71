/* load.c - fault-load: the load driver and the loss account of the fault scenarios
 * (tests/faults/test_*.sh).
 *
 *   fault-load post --url URL --log FILE [--rate R] [--events N] [--calls K] [--messages M]
 *                   [--secret-env NAME] [--seed FILE] [--max-in-flight N] [--timeout-s S]
 *     Posts N signed events (default 100000: stop it with SIGTERM) at R per second (default
 *     40), up to --max-in-flight at once (default 2000). Event i belongs to conversation
 *     (call_id) i % K (default K = 15 R: a conversation gets an event every 15 s) and carries
 *     M messages (default 7, the seed's in turn) whose msg_id is "RUN-i-j", so every record
 *     names its request and its place. An event is not posted before the previous event of
 *     its conversation was answered, so each conversation has one order. The log gets one
 *     line per answer,
 *         req I CALL START_MS END_MS STATUS CURLCODE
 *     (wall-clock ms; STATUS 0 = no HTTP answer), and "mark fault MS" / "mark heal MS" on
 *     SIGUSR1 / SIGUSR2. SIGTERM or SIGINT: post no more, wait for the answers, exit 0.
 *
 *   fault-load offsets --bootstrap B --group G --topic T --out FILE [--interval-ms MS]
 *     Until SIGTERM, asks every MS (default 200) for the offsets G committed on T and writes
 *     "MS PARTITION OFFSET" whenever one moved (MS: when the answer came).
 *
 *   fault-load account --log FILE --bootstrap B --topic T --scenario NAME [--round N]
 *                      [--desk FILE] [--offsets FILE] [--table FILE] [--summary FILE]
 *     Reads the topic back from the beginning and prints one row of the loss account
 *     (appended to --table too, under a header if the file is empty): requests, 200s, 503s,
 *     other answers, records expected from the 200s, found, LOST (expected, absent), extra
 *     (records of requests not answered 200 that were written anyway: allowed), duplicates
 *     (copies beyond the first), out-of-order pairs within a call_id (first copies, in
 *     offset order), seconds from the fault mark to the first 200 after the last failure,
 *     and the slowest 200. With --desk (a sample-desk --out file): records of the topic
 *     that never reached the desk, deliveries beyond the copies in Kafka, first deliveries
 *     out of Kafka's order within a call_id, and with --offsets, samples where the group
 *     had committed past a record not yet delivered; with --kill-ms too (when a replay was
 *     SIGKILLed), how many records had been delivered by then at offsets not yet committed:
 *     what a restart may deliver again. --summary gets the same figures as shell
 *     assignments (name=value) for the test to check.
 *
 * A test tool: simple on purpose, every failure is a message and exit 1. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NONE INT64_MAX

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fault-load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long parse_long(const char *name, const char *text, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || value < min || value > max)
        die("--%s: expected an integer from %ld to %ld, got \"%s\"", name, min, max, text);
    return value;
}

/* ---- signals ---- */

static volatile sig_atomic_t got_stop, got_fault, got_heal;
static volatile int64_t fault_at, heal_at; /* written before the flag, read after it */

static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        fault_at = wall_ms(); /* clock_gettime is async-signal-safe */
        got_fault = 1;
    } else if (sig == SIGUSR2) {
        heal_at = wall_ms();
        got_heal = 1;
    } else {
        got_stop = 1;
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* ---- post ---- */

struct post_opts {
    const char *url, *log, *secret_env, *seed;
    long rate, events, calls, messages, max_in_flight, timeout_s;
};

struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    long index;
    int64_t start_ms;
};

struct poster {
    struct post_opts opt;
    char run[17];
    const char *secret;
    json_t *seed;
    CURLM *multi;
    FILE *log;
    bool *answered; /* per event */
    long issued, done, in_flight, held;
};

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

/* Event i: the seed with call_id RUN-cK and M messages whose msg_id is RUN-i-j. */
static char *event_body(struct poster *p, long i)
{
    char id[96];
    json_t *event = json_deep_copy(p->seed);
    json_t *seed_messages = json_object_get(p->seed, "messages");
    json_t *messages = json_array();
    size_t nseed = json_array_size(seed_messages);

    snprintf(id, sizeof(id), "%s-c%ld", p->run, i % p->opt.calls);
    json_object_set_new(event, "call_id", json_string(id));
    for (long j = 0; j < p->opt.messages; j++) {
        json_t *message = json_deep_copy(json_array_get(seed_messages, (size_t)j % nseed));
        snprintf(id, sizeof(id), "%s-%ld-%ld", p->run, i, j);
        json_object_set_new(message, "msg_id", json_string(id));
        json_array_append_new(messages, message);
    }
    json_object_set_new(event, "messages", messages);
    char *body = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    if (body == NULL)
        die("cannot encode event %ld", i);
    return body;
}

static void sign(const char *secret, const char *body, char hex[2 * EVP_MAX_MD_SIZE + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body,
             strlen(body), mac, &len) == NULL)
        die("HMAC failed");
    for (unsigned int k = 0; k < len; k++)
        sprintf(hex + 2 * k, "%02x", mac[k]);
    hex[2 * len] = '\0';
}

static void start_transfer(struct poster *p, long i)
{
    char header[2 * EVP_MAX_MD_SIZE + 32], hex[2 * EVP_MAX_MD_SIZE + 1];
    struct transfer *t = xcalloc(1, sizeof(*t));
    t->index = i;
    t->body = event_body(p, i);
    sign(p->secret, t->body, hex);
    snprintf(header, sizeof(header), "X-AIRudder-Sign: %s", hex);
    t->headers = curl_slist_append(NULL, "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, header);
    t->headers = curl_slist_append(t->headers, "Expect:");
    t->easy = curl_easy_init();
    if (t->easy == NULL || t->headers == NULL)
        die("cannot set up a transfer");
    curl_easy_setopt(t->easy, CURLOPT_URL, p->opt.url);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT, p->opt.timeout_s);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    t->start_ms = wall_ms();
    curl_multi_add_handle(p->multi, t->easy);
    p->in_flight++;
    p->issued++;
}

static void finish_transfers(struct poster *p)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        fprintf(p->log, "req %ld %ld %" PRId64 " %" PRId64 " %ld %d\n", t->index,
                t->index % p->opt.calls, t->start_ms, wall_ms(), status, (int)msg->data.result);
        fflush(p->log);
        p->answered[t->index] = true;
        curl_multi_remove_handle(p->multi, t->easy);
        curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        free(t->body);
        free(t);
        p->in_flight--;
        p->done++;
    }
}

static void write_marks(struct poster *p)
{
    if (got_fault) {
        got_fault = 0;
        fprintf(p->log, "mark fault %" PRId64 "\n", fault_at);
        fflush(p->log);
    }
    if (got_heal) {
        got_heal = 0;
        fprintf(p->log, "mark heal %" PRId64 "\n", heal_at);
        fflush(p->log);
    }
}

static void random_run_id(char run[17])
{
    unsigned char bytes[8];
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(bytes, 1, sizeof(bytes), f) != sizeof(bytes))
        die("cannot read /dev/urandom");
    fclose(f);
    for (int k = 0; k < 8; k++)
        sprintf(run + 2 * k, "%02x", bytes[k]);
}

static int cmd_post(int argc, char **argv)
{
    struct poster p = {.opt = {.secret_env = "ARB_SIGN_SECRET", .rate = 40, .events = 100000,
                               .messages = 7, .max_in_flight = 2000, .timeout_s = 30}};
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},     {"log", required_argument, NULL, 'l'},
        {"rate", required_argument, NULL, 'r'},    {"events", required_argument, NULL, 'n'},
        {"calls", required_argument, NULL, 'k'},   {"messages", required_argument, NULL, 'm'},
        {"secret-env", required_argument, NULL, 's'}, {"seed", required_argument, NULL, 'S'},
        {"max-in-flight", required_argument, NULL, 'f'},
        {"timeout-s", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'u': p.opt.url = optarg; break;
        case 'l': p.opt.log = optarg; break;
        case 'r': p.opt.rate = parse_long("rate", optarg, 1, 10000); break;
        case 'n': p.opt.events = parse_long("events", optarg, 1, 10000000); break;
        case 'k': p.opt.calls = parse_long("calls", optarg, 1, 10000000); break;
        case 'm': p.opt.messages = parse_long("messages", optarg, 1, 1000); break;
        case 's': p.opt.secret_env = optarg; break;
        case 'S': p.opt.seed = optarg; break;
        case 'f': p.opt.max_in_flight = parse_long("max-in-flight", optarg, 1, 100000); break;
        case 't': p.opt.timeout_s = parse_long("timeout-s", optarg, 1, 3600); break;
        default: die("post: bad option (see the top of tests/faults/load.c)");
        }
    }
    if (p.opt.url == NULL || p.opt.log == NULL || p.opt.seed == NULL)
        die("post: --url, --log and --seed are required");
    if (p.opt.calls == 0)
        p.opt.calls = 15 * p.opt.rate;
    p.secret = getenv(p.opt.secret_env);
    if (p.secret == NULL || p.secret[0] == '\0')
        die("post: $%s (the signing secret) is not set", p.opt.secret_env);
    json_error_t jerr;
    p.seed = json_load_file(p.opt.seed, 0, &jerr);
    if (p.seed == NULL || json_array_size(json_object_get(p.seed, "messages")) == 0)
        die("post: %s: not an event with messages (%s)", p.opt.seed, jerr.text);
    p.log = fopen(p.opt.log, "a");
    if (p.log == NULL)
        die("post: %s: %s", p.opt.log, strerror(errno));
    random_run_id(p.run);
    p.answered = xcalloc((size_t)p.opt.events, sizeof(bool));
    install_signals();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (p.multi = curl_multi_init()) == NULL)
        die("post: cannot initialise libcurl");
    curl_multi_setopt(p.multi, CURLMOPT_MAXCONNECTS, p.opt.max_in_flight);
    fprintf(p.log, "run %s calls %ld messages %ld rate %ld events %ld\n", p.run, p.opt.calls,
            p.opt.messages, p.opt.rate, p.opt.events);
    fflush(p.log);

    int64_t t0 = mono_ms();
    long next = 0;
    bool holding = false;
    while (p.in_flight > 0 || (next < p.opt.events && !got_stop)) {
        int64_t now = mono_ms();
        while (!got_stop && next < p.opt.events && p.in_flight < p.opt.max_in_flight &&
               t0 + next * 1000 / p.opt.rate <= now) {
            long previous = next - p.opt.calls;
            if (previous >= 0 && !p.answered[previous]) {
                if (!holding)
                    p.held++;
                holding = true; /* its conversation's previous event is still out */
                break;
            }
            holding = false;
            start_transfer(&p, next++);
        }
        int running = 0;
        curl_multi_perform(p.multi, &running);
        finish_transfers(&p);
        write_marks(&p);
        int wait_ms = 10;
        if (!got_stop && next < p.opt.events) {
            int64_t due = t0 + next * 1000 / p.opt.rate - mono_ms();
            if (due < wait_ms)
                wait_ms = due > 0 ? (int)due : 0;
        }
        curl_multi_poll(p.multi, NULL, 0, wait_ms, NULL);
    }
    write_marks(&p);
    fprintf(p.log, "end issued %ld answered %ld held %ld\n", p.issued, p.done, p.held);
    fclose(p.log);
    fprintf(stderr, "fault-load: posted %ld events (run %s), %ld waited for their conversation\n",
            p.issued, p.run, p.held);
    curl_multi_cleanup(p.multi);
    curl_global_cleanup();
    json_decref(p.seed);
    free(p.answered);
    return 0;
}

/* ---- Kafka ---- */

static rd_kafka_t *consumer_new(const char *bootstrap, const char *group)
{
    char errstr[512], id[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(id, sizeof(id), "fault-load-%ld", (long)getpid());
    const char *settings[][2] = {
        {"bootstrap.servers", bootstrap}, {"group.id", group != NULL ? group : id},
        {"enable.auto.commit", "false"},  {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"}, {"log_level", "3"},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK)
            die("%s", errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL)
        die("%s", errstr);
    return rk;
}

static int partition_count(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int n = -1;
    for (int attempt = 0; attempt < 10 && n < 0; attempt++) {
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                n = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
        }
        if (n < 0)
            sleep(1);
    }
    rd_kafka_topic_destroy(rkt);
    if (n <= 0)
        die("no metadata for topic %s", topic);
    return n;
}

/* ---- offsets ---- */

static int cmd_offsets(int argc, char **argv)
{
    const char *bootstrap = NULL, *group = NULL, *topic = NULL, *out = NULL;
    long interval_ms = 200;
    static const struct option options[] = {
        {"bootstrap", required_argument, NULL, 'b'}, {"group", required_argument, NULL, 'g'},
        {"topic", required_argument, NULL, 't'},     {"out", required_argument, NULL, 'o'},
        {"interval-ms", required_argument, NULL, 'i'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'b': bootstrap = optarg; break;
        case 'g': group = optarg; break;
        case 't': topic = optarg; break;
        case 'o': out = optarg; break;
        case 'i': interval_ms = parse_long("interval-ms", optarg, 10, 60000); break;
        default: die("offsets: bad option");
        }
    }
    if (bootstrap == NULL || group == NULL || topic == NULL || out == NULL)
        die("offsets: --bootstrap, --group, --topic and --out are required");
    install_signals();
    FILE *f = fopen(out, "a");
    if (f == NULL)
        die("offsets: %s: %s", out, strerror(errno));
    rd_kafka_t *rk = consumer_new(bootstrap, group);
    int n = partition_count(rk, topic);
    int64_t *last = xcalloc((size_t)n, sizeof(*last));
    for (int i = 0; i < n; i++)
        last[i] = -1;
    while (!got_stop) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; i < n; i++)
            rd_kafka_topic_partition_list_add(list, topic, i);
        if (rd_kafka_committed(rk, list, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            int64_t now = wall_ms();
            for (int i = 0; i < list->cnt; i++) {
                rd_kafka_topic_partition_t *tp = &list->elems[i];
                if (tp->err == RD_KAFKA_RESP_ERR_NO_ERROR && tp->offset >= 0 &&
                    tp->offset != last[tp->partition]) {
                    last[tp->partition] = tp->offset;
                    fprintf(f, "%" PRId64 " %d %" PRId64 "\n", now, (int)tp->partition,
                            tp->offset);
                }
            }
            fflush(f);
        }
        rd_kafka_topic_partition_list_destroy(list);
        struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    fclose(f);
    free(last);
    rd_kafka_destroy(rk);
    return 0;
}

/* ---- account ---- */

struct request {
    int64_t start_ms, end_ms;
    long status; /* -1: never answered (not in the log) */
};

struct copy { /* one record read from the topic */
    int64_t offset;
    long record; /* event * messages + message */
};

struct partition {
    struct copy *copies;
    size_t n, cap;
};

struct account {
    char run[64];
    long calls, messages, events; /* events: highest index + 1 */
    struct request *requests;
    int64_t fault_ms, heal_ms;

    long *copies;          /* per record: copies in the topic */
    int *first_partition;  /* per record: where its first copy is */
    int64_t *first_offset; /* per record */
    long foreign;          /* records of the topic not of this run, or misplaced */
    long ooo;              /* out-of-order pairs in the topic */
    struct partition *partitions;
    int npartitions;

    long *deliveries;      /* per record: desk lines */
    int64_t *delivered_at; /* per record: first desk line's received_at */
    long desk_ooo, desk_foreign, past_commit;
    bool desk, offsets;
    int64_t kill_ms;  /* NONE: no kill */
    long at_risk;     /* delivered by kill_ms at offsets not committed by then */
};

static void read_log(struct account *a, const char *file)
{
    FILE *f = fopen(file, "r");
    char line[512];
    size_t cap = 0;
    if (f == NULL)
        die("account: %s: %s", file, strerror(errno));
    a->fault_ms = a->heal_ms = NONE;
    while (fgets(line, sizeof(line), f) != NULL) {
        long i, call, status, curlcode;
        int64_t start, end, at;
        char run[64];
        if (sscanf(line, "run %63s calls %ld messages %ld", run, &a->calls, &a->messages) == 3) {
            snprintf(a->run, sizeof(a->run), "%s", run);
        } else if (sscanf(line, "req %ld %ld %" SCNd64 " %" SCNd64 " %ld %ld", &i, &call, &start,
                          &end, &status, &curlcode) == 6) {
            if (i < 0)
                die("account: %s: bad line: %s", file, line);
            if ((size_t)i >= cap) {
                size_t grown = cap ? cap * 2 : 1024;
                while (grown <= (size_t)i)
                    grown *= 2;
                a->requests = realloc(a->requests, grown * sizeof(*a->requests));
                if (a->requests == NULL)
                    die("out of memory");
                for (size_t k = cap; k < grown; k++)
                    a->requests[k] = (struct request){NONE, NONE, -1};
                cap = grown;
            }
            a->requests[i] = (struct request){start, end, status};
            if (i + 1 > a->events)
                a->events = i + 1;
        } else if (sscanf(line, "mark fault %" SCNd64, &at) == 1) {
            if (a->fault_ms == NONE)
                a->fault_ms = at;
        } else if (sscanf(line, "mark heal %" SCNd64, &at) == 1) {
            if (a->heal_ms == NONE)
                a->heal_ms = at;
        }
    }
    fclose(f);
    if (a->run[0] == '\0' || a->messages <= 0 || a->calls <= 0)
        die("account: %s: no \"run\" line (not a fault-load post log?)", file);
}

/* "RUN-i-j" of this run: the record number, else -1. */
static long record_of(const struct account *a, const char *msg_id)
{
    size_t runlen = strlen(a->run);
    long i, j;
    char tail;
    if (msg_id == NULL || strncmp(msg_id, a->run, runlen) != 0 || msg_id[runlen] != '-' ||
        sscanf(msg_id + runlen + 1, "%ld-%ld%c", &i, &j, &tail) != 2 || i < 0 ||
        i >= a->events || j < 0 || j >= a->messages)
        return -1;
    return i * a->messages + j;
}

static void add_copy(struct account *a, int partition, int64_t offset, long record)
{
    struct partition *p = &a->partitions[partition];
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 1024;
        p->copies = realloc(p->copies, p->cap * sizeof(*p->copies));
        if (p->copies == NULL)
            die("out of memory");
    }
    p->copies[p->n++] = (struct copy){offset, record};
}

static void read_topic(struct account *a, const char *bootstrap, const char *topic)
{
    rd_kafka_t *rk = consumer_new(bootstrap, NULL);
    int n = partition_count(rk, topic);
    long nrecords = a->events * a->messages;
    long *last_in_call = xcalloc((size_t)a->calls, sizeof(long));
    int64_t *high = xcalloc((size_t)n, sizeof(*high));
    int remaining = 0;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);

    a->npartitions = n;
    a->partitions = xcalloc((size_t)n, sizeof(*a->partitions));
    a->copies = xcalloc((size_t)nrecords, sizeof(long));
    a->first_partition = xcalloc((size_t)nrecords, sizeof(int));
    a->first_offset = xcalloc((size_t)nrecords, sizeof(int64_t));
    for (long c = 0; c < a->calls; c++)
        last_in_call[c] = -1;
    for (int i = 0; i < n; i++) {
        int64_t low = 0;
        rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int attempt = 0; attempt < 10; attempt++) {
            err = rd_kafka_query_watermark_offsets(rk, topic, i, &low, &high[i], 5000);
            if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            sleep(1);
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            die("account: watermarks of %s [%d]: %s", topic, i, rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_add(list, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
        if (high[i] > low)
            remaining++;
        else
            high[i] = -1; /* empty: nothing to wait for */
    }
    if (rd_kafka_assign(rk, list) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("account: cannot assign %s", topic);
    rd_kafka_topic_partition_list_destroy(list);

    int64_t deadline = mono_ms() + 120000;
    while (remaining > 0) {
        if (mono_ms() > deadline)
            die("account: %s not read to its end within 120 s", topic);
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 500);
        if (msg == NULL)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(msg);
            continue;
        }
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "fault-load: account: %s\n", rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
            continue;
        }
        int part = msg->partition;
        json_t *value = json_loadb(msg->payload, msg->len, 0, NULL);
        const char *msg_id = json_string_value(json_object_get(json_object_get(value, "message"),
                                                               "msg_id"));
        long record = record_of(a, msg_id);
        char key[96];
        if (record >= 0)
            snprintf(key, sizeof(key), "%s-c%ld", a->run, (record / a->messages) % a->calls);
        if (record < 0 || msg->key == NULL || msg->key_len != strlen(key) ||
            memcmp(msg->key, key, msg->key_len) != 0) {
            a->foreign++;
        } else {
            long call = (record / a->messages) % a->calls;
            add_copy(a, part, msg->offset, record);
            if (a->copies[record]++ == 0) {
                a->first_partition[record] = part;
                a->first_offset[record] = msg->offset;
                if (record < last_in_call[call])
                    a->ooo++;
                else
                    last_in_call[call] = record;
            }
        }
        json_decref(value);
        if (high[part] >= 0 && msg->offset >= high[part] - 1) {
            high[part] = -1;
            remaining--;
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    free(high);
    free(last_in_call);
}

static void read_desk(struct account *a, const char *file)
{
    FILE *f = fopen(file, "r");
    long nrecords = a->events * a->messages;
    int64_t *last_in_call = xcalloc((size_t)a->calls, sizeof(int64_t));
    char *line = NULL;
    size_t cap = 0;

    if (f == NULL)
        die("account: %s: %s", file, strerror(errno));
    a->desk = true;
    a->deliveries = xcalloc((size_t)nrecords, sizeof(long));
    a->delivered_at = xcalloc((size_t)nrecords, sizeof(int64_t));
    for (long r = 0; r < nrecords; r++)
        a->delivered_at[r] = NONE;
    for (long c = 0; c < a->calls; c++)
        last_in_call[c] = -1;
    while (getline(&line, &cap, f) > 0) {
        json_t *entry = json_loads(line, 0, NULL);
        json_t *event = json_object_get(entry, "event");
        const char *msg_id = json_string_value(
            json_object_get(json_array_get(json_object_get(event, "messages"), 0), "msg_id"));
        long record = record_of(a, msg_id);
        if (record < 0 || a->copies[record] == 0) {
            a->desk_foreign++; /* not a record of the topic */
        } else if (a->deliveries[record]++ == 0) {
            long call = (record / a->messages) % a->calls;
            a->delivered_at[record] = json_integer_value(json_object_get(entry, "received_at"));
            /* first deliveries of a conversation follow Kafka's order (one partition) */
            if (a->first_offset[record] < last_in_call[call])
                a->desk_ooo++;
            else
                last_in_call[call] = a->first_offset[record];
        }
        json_decref(entry);
    }
    free(line);
    fclose(f);
    free(last_in_call);
}

static int by_offset(const void *x, const void *y)
{
    const struct copy *a = x, *b = y;
    return (a->offset > b->offset) - (a->offset < b->offset);
}

/* Each sample "MS P O" claims: every record of P below O was delivered by MS. */
static void check_offsets(struct account *a, const char *file)
{
    FILE *f = fopen(file, "r");
    char line[128];
    int64_t **latest = xcalloc((size_t)a->npartitions, sizeof(int64_t *));
    int64_t *committed_at_kill = xcalloc((size_t)a->npartitions, sizeof(int64_t));

    if (f == NULL)
        die("account: %s: %s", file, strerror(errno));
    a->offsets = true;
    for (int p = 0; p < a->npartitions; p++) {
        struct partition *part = &a->partitions[p];
        if (part->n > 1)
            qsort(part->copies, part->n, sizeof(*part->copies), by_offset);
        latest[p] = xcalloc(part->n, sizeof(int64_t));
        int64_t worst = 0;
        for (size_t k = 0; k < part->n; k++) {
            int64_t at = a->delivered_at[part->copies[k].record];
            worst = at > worst ? at : worst;
            latest[p][k] = worst; /* the last delivery among copies 0..k */
        }
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        int64_t ms, offset;
        int p;
        if (sscanf(line, "%" SCNd64 " %d %" SCNd64, &ms, &p, &offset) != 3 || p < 0 ||
            p >= a->npartitions)
            continue;
        struct partition *part = &a->partitions[p];
        if (ms <= a->kill_ms && offset > committed_at_kill[p])
            committed_at_kill[p] = offset;
        size_t below = 0; /* copies with an offset below the committed one */
        while (below < part->n && part->copies[below].offset < offset)
            below++;
        if (below > 0 && latest[p][below - 1] > ms) {
            if (a->past_commit++ == 0)
                fprintf(stderr, "fault-load: partition %d committed at %" PRId64 " up to %" PRId64
                        " while a record below it was %s\n", p, ms, offset,
                        latest[p][below - 1] == NONE ? "never delivered" : "delivered later");
        }
    }
    fclose(f);
    if (a->kill_ms != NONE)
        for (long r = 0; r < a->events * a->messages; r++)
            if (a->copies[r] > 0 && a->delivered_at[r] <= a->kill_ms &&
                a->first_offset[r] >= committed_at_kill[a->first_partition[r]])
                a->at_risk++;
    for (int p = 0; p < a->npartitions; p++)
        free(latest[p]);
    free(latest);
    free(committed_at_kill);
}

struct figures {
    long requests, ok, unavailable, other, expected, found, lost, extra, dups, dups_ok, ooo;
    long window_ok; /* 200s of requests sent after the fault mark, answered before the heal */
    int64_t recovery_ms, max_ok_ms;
    long delivered, undelivered, desk_dups, desk_ooo, desk_foreign, past_commit, foreign;
    long at_risk;
};

static struct figures compute(const struct account *a)
{
    struct figures x = {.recovery_ms = -1};
    int64_t last_bad = a->fault_ms;
    for (long i = 0; i < a->events; i++) {
        const struct request *r = &a->requests[i];
        if (r->status < 0)
            continue;
        x.requests++;
        bool ok = r->status == 200;
        x.ok += ok;
        x.unavailable += r->status == 503;
        x.other += !ok && r->status != 503;
        if (ok && r->end_ms - r->start_ms > x.max_ok_ms)
            x.max_ok_ms = r->end_ms - r->start_ms;
        if (ok && a->fault_ms != NONE && r->start_ms >= a->fault_ms &&
            (a->heal_ms == NONE || r->end_ms < a->heal_ms))
            x.window_ok++;
        if (!ok && a->fault_ms != NONE && r->end_ms >= a->fault_ms && r->end_ms > last_bad)
            last_bad = r->end_ms;
        for (long j = 0; j < a->messages; j++) {
            long copies = a->copies[i * a->messages + j];
            x.dups += copies > 1 ? copies - 1 : 0;
            if (ok)
                x.dups_ok += copies > 1 ? copies - 1 : 0;
            if (ok) {
                x.expected++;
                x.found += copies > 0;
            } else {
                x.extra += copies > 0;
            }
        }
    }
    x.lost = x.expected - x.found;
    x.ooo = a->ooo;
    x.foreign = a->foreign;
    if (a->fault_ms != NONE) {
        /* the first 200 after the last failure; with no failure, the first 200 of a
         * request sent after the fault */
        bool failed = last_bad != a->fault_ms;
        int64_t first = NONE;
        for (long i = 0; i < a->events; i++) {
            const struct request *r = &a->requests[i];
            if (r->status == 200 && r->end_ms > last_bad && r->end_ms < first &&
                (failed || r->start_ms >= a->fault_ms))
                first = r->end_ms;
        }
        if (first != NONE)
            x.recovery_ms = first - a->fault_ms;
    }
    if (a->desk) {
        for (long r = 0; r < a->events * a->messages; r++) {
            if (a->copies[r] == 0)
                continue;
            x.delivered += a->deliveries[r] > 0;
            x.undelivered += a->deliveries[r] == 0;
            x.desk_dups += a->deliveries[r] > a->copies[r] ? a->deliveries[r] - a->copies[r] : 0;
        }
        x.desk_ooo = a->desk_ooo;
        x.desk_foreign = a->desk_foreign;
    }
    x.past_commit = a->past_commit;
    x.at_risk = a->at_risk;
    return x;
}

static void seconds(char *out, size_t size, int64_t ms)
{
    if (ms < 0)
        snprintf(out, size, "never");
    else
        snprintf(out, size, "%.1f", (double)ms / 1000);
}

static void print_row(FILE *f, bool header, const char *scenario, long round,
                      const struct account *a, const struct figures *x)
{
    char recovery[16], slowest[16], desk[96] = "", offsets[16] = "";
    if (header)
        fprintf(f, "%-24s %5s %8s %6s %5s %5s %8s %8s %5s %5s %5s %4s %9s %8s %s\n", "scenario",
                "round", "requests", "200", "503", "other", "expected", "found", "LOST",
                "extra", "dups", "ooo", "recover_s", "max200_s",
                "desk: delivered undelivered redelivered ooo past_commit");
    seconds(recovery, sizeof(recovery), a->fault_ms == NONE ? 0 : x->recovery_ms);
    if (a->fault_ms == NONE)
        snprintf(recovery, sizeof(recovery), "-");
    seconds(slowest, sizeof(slowest), x->max_ok_ms);
    if (a->offsets)
        snprintf(offsets, sizeof(offsets), "%ld", x->past_commit);
    if (a->desk)
        snprintf(desk, sizeof(desk), "      %9ld %11ld %11ld %3ld %11s", x->delivered,
                 x->undelivered, x->desk_dups, x->desk_ooo, a->offsets ? offsets : "-");
    fprintf(f, "%-24s %5ld %8ld %6ld %5ld %5ld %8ld %8ld %5ld %5ld %5ld %4ld %9s %8s%s\n",
            scenario, round, x->requests, x->ok, x->unavailable, x->other, x->expected,
            x->found, x->lost, x->extra, x->dups, x->ooo, recovery, slowest, desk);
}

static void write_summary(const char *file, const struct figures *x)
{
    FILE *f = fopen(file, "w");
    if (f == NULL)
        die("account: %s: %s", file, strerror(errno));
    fprintf(f,
            "requests=%ld\nok=%ld\nunavailable=%ld\nother=%ld\nexpected=%ld\nfound=%ld\n"
            "lost=%ld\nextra=%ld\ndups=%ld\ndups_ok=%ld\nooo=%ld\nwindow_ok=%ld\nrecovery_ms=%" PRId64
            "\nmax_ok_ms=%" PRId64 "\ndelivered=%ld\nundelivered=%ld\nredelivered=%ld\n"
            "desk_ooo=%ld\ndesk_foreign=%ld\npast_commit=%ld\nforeign=%ld\nat_risk=%ld\n",
            x->requests, x->ok, x->unavailable, x->other, x->expected, x->found, x->lost,
            x->extra, x->dups, x->dups_ok, x->ooo, x->window_ok, x->recovery_ms, x->max_ok_ms, x->delivered,
            x->undelivered, x->desk_dups, x->desk_ooo, x->desk_foreign, x->past_commit,
            x->foreign, x->at_risk);
    fclose(f);
}

static int cmd_account(int argc, char **argv)
{
    const char *log = NULL, *bootstrap = NULL, *topic = NULL, *scenario = NULL, *desk = NULL,
               *offsets = NULL, *table = NULL, *summary = NULL;
    long round = 1;
    int64_t kill_ms = NONE;
    static const struct option options[] = {
        {"log", required_argument, NULL, 'l'},      {"bootstrap", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},    {"scenario", required_argument, NULL, 's'},
        {"round", required_argument, NULL, 'r'},    {"desk", required_argument, NULL, 'd'},
        {"offsets", required_argument, NULL, 'o'},  {"table", required_argument, NULL, 'T'},
        {"summary", required_argument, NULL, 'S'},  {"kill-ms", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 'l': log = optarg; break;
        case 'b': bootstrap = optarg; break;
        case 't': topic = optarg; break;
        case 's': scenario = optarg; break;
        case 'r': round = parse_long("round", optarg, 1, 1000); break;
        case 'd': desk = optarg; break;
        case 'o': offsets = optarg; break;
        case 'T': table = optarg; break;
        case 'S': summary = optarg; break;
        case 'k': kill_ms = parse_long("kill-ms", optarg, 0, LONG_MAX); break;
        default: die("account: bad option");
        }
    }
    if (log == NULL || bootstrap == NULL || topic == NULL || scenario == NULL)
        die("account: --log, --bootstrap, --topic and --scenario are required");
    if (offsets != NULL && desk == NULL)
        die("account: --offsets needs --desk");
    if (kill_ms != NONE && offsets == NULL)
        die("account: --kill-ms needs --offsets");
    struct account a = {.kill_ms = kill_ms};
    read_log(&a, log);
    if (a.events == 0)
        die("account: %s: no request was answered", log);
    read_topic(&a, bootstrap, topic);
    if (desk != NULL)
        read_desk(&a, desk);
    if (offsets != NULL)
        check_offsets(&a, offsets);
    struct figures x = compute(&a);
    print_row(stdout, true, scenario, round, &a, &x);
    if (table != NULL) {
        FILE *f = fopen(table, "a");
        if (f == NULL)
            die("account: %s: %s", table, strerror(errno));
        fseek(f, 0, SEEK_END);
        print_row(f, ftell(f) == 0, scenario, round, &a, &x);
        fclose(f);
    }
    if (summary != NULL)
        write_summary(summary, &x);
    for (int p = 0; p < a.npartitions; p++)
        free(a.partitions[p].copies);
    free(a.partitions);
    free(a.requests);
    free(a.copies);
    free(a.first_partition);
    free(a.first_offset);
    free(a.deliveries);
    free(a.delivered_at);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: fault-load post|offsets|account OPTION... (see tests/faults/load.c)");
    const char *command = argv[1];
    argv[1] = argv[0];
    if (strcmp(command, "post") == 0)
        return cmd_post(argc - 1, argv + 1);
    if (strcmp(command, "offsets") == 0)
        return cmd_offsets(argc - 1, argv + 1);
    if (strcmp(command, "account") == 0)
        return cmd_account(argc - 1, argv + 1);
    die("unknown command \"%s\" (post, offsets, account)", command);
    return 1;
}

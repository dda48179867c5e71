/* desk.c - the sample agent desk: the HTTP endpoint airudder-replay delivers to in the
 * integration tests and the demo.
 *
 * It accepts what a customer's AIRudder webhook handler would accept (contract section 5): a
 * POST of an AIRudder event signed as in contract section 3. Each accepted event is recorded
 * as one JSON line (received_at, idempotency_key, signature_ok, attempt, event) so a test can
 * check what arrived, how often and in which order. Options make it misbehave on purpose:
 * fail the first attempts of every Idempotency-Key, reject chosen msg_ids, answer late, close
 * connections, go "down" while a file exists, stop listening on SIGUSR1 and listen again on
 * SIGUSR2.
 *
 * A POST is answered, in this order: 503 while --down-file exists; 413 over --max-body; 401
 * when the signature fails (not with --no-verify); 400 when the body is not JSON; then the
 * attempt is counted for its Idempotency-Key (requests without one share one count); 4xx for
 * a --reject-msg-id; --fail-status for the first --fail-first attempts; else 200 {} and the
 * line {"received_at":ms,"idempotency_key":"k"|null,"signature_ok":b,"attempt":n,"event":{..}}
 * is written with one write(2). signature_ok is false only with --no-verify (no secret, or a
 * signature that did not verify).
 *
 * Threads: libmicrohttpd's epoll thread pool runs the handlers; one timer thread resumes the
 * connections suspended for --latency-ms, so a slow answer never holds an MHD thread. Signal
 * handlers only set flags; main() waits in sigsuspend and acts on them.
 *
 * With --tls-cert and --tls-key it serves HTTPS (libmicrohttpd with GnuTLS), the same answers;
 * the PEM files are read once at start and kept in memory for every (re)start of the daemon. */
#include "arb/buf.h"
#include "arb/error.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"
#include "arb/signature.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DESK_MAX_BODY_DEFAULT (8L << 20)
#define DESK_THREADS_DEFAULT 4
#define DESK_CONNECTION_LIMIT 4096u
#define DESK_IDLE_TIMEOUT_S 30u
#define DESK_STOP_GRACE_MS 2000
#define DESK_STATUS_MIN 300
#define DESK_STATUS_MAX 599
#define DESK_PEM_MAX (1024 * 1024)

static const char ERR_SIGNATURE[] = "{\"error\":\"invalid_signature\"}";
static const char ERR_JSON[] = "{\"error\":\"invalid_json\"}";
static const char ERR_KEY[] = "{\"error\":\"invalid_idempotency_key\"}";
static const char ERR_TOO_LARGE[] = "{\"error\":\"body_too_large\"}";
static const char ERR_DOWN[] = "{\"error\":\"desk_down\"}";
static const char ERR_INJECTED[] = "{\"error\":\"injected_failure\"}";
static const char ERR_REJECTED[] = "{\"error\":\"rejected_msg_id\"}";
static const char ERR_NOT_FOUND[] = "{\"error\":\"not_found\"}";
static const char ERR_METHOD[] = "{\"error\":\"method_not_allowed\"}";
static const char ERR_RECORD[] = "{\"error\":\"record_failed\"}";
static const char OK_EMPTY[] = "{}";
static const char OK_HEALTH[] = "{\"status\":\"ok\"}";

struct desk_options {
    const char *listen; /* HOST:PORT as given; host part kept for the "listening" line */
    char host[256];
    struct sockaddr_storage addr;
    const char *path, *out, *secret_env, *header, *prefix, *down_file;
    const char *tls_cert, *tls_key; /* PEM files; NULL = plain HTTP */
    enum arb_sig_algorithm algorithm;
    enum arb_sig_encoding encoding;
    bool verify, close;
    long fail_first, fail_status, retry_after, reject_status, latency_ms, threads, max_body;
    char **reject_ids; /* owned, from --reject-msg-id */
    size_t nreject_ids;
};

/* How many times each Idempotency-Key was seen: chained hash table under one mutex. */
struct key_entry {
    struct key_entry *next;
    unsigned long count;
    char key[];
};

struct key_counts {
    pthread_mutex_t lock;
    struct key_entry **slots;
    size_t nslots, nkeys;
};

/* Connections suspended for --latency-ms, oldest first. Every request waits the same time, so
 * arrival order is deadline order and a FIFO list is a complete timer queue. */
struct request;
struct delay_queue {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC, like arb_now_ns */
    struct request *head, *tail;
    bool open; /* false while the daemon stops: nothing new may be suspended */
    bool quit;
    bool started;
    pthread_t thread;
};

struct answer {
    unsigned status;
    const char *body; /* copied into the response */
    bool retry_after;
    const char *allow;
};

/* One POST to the events path, from its headers to its completion. The answer is decided
 * after the --latency-ms wait, so a desk stopped meanwhile (SIGUSR1) has neither recorded nor
 * answered it. */
enum request_state { REQ_READING, REQ_WAITING, REQ_ABANDONED, REQ_DECIDED };

struct request {
    struct arb_buf body;
    bool too_large;
    enum request_state state;
    int64_t received_at; /* when the body was complete, ms since the epoch */
    struct answer answer;
    struct MHD_Connection *connection;
    int64_t due_ns;
    struct request *next; /* delay queue link */
};

struct desk {
    struct desk_options opt;
    struct arb_secret secret;
    struct arb_signature_conf sig; /* borrows opt's strings and the secret: never cleared */
    bool have_secret;
    int out_fd;
    pthread_mutex_t out_lock; /* one line at a time, never interleaved */
    struct key_counts keys;
    struct delay_queue delays;
    struct MHD_Daemon *daemon; /* NULL while not listening */
    char *tls_cert, *tls_key;  /* PEM text for MHD, NULL without TLS; the key cleansed at close */
    size_t tls_key_len;
    atomic_ulong requests, accepted, rejected, in_flight;
    atomic_bool stopping; /* connections are being closed on purpose: MHD's noise is muted */
};

static volatile sig_atomic_t got_stop, got_unlisten, got_listen;

static void on_signal(int signo)
{
    if (signo == SIGUSR1)
        got_unlisten = 1;
    else if (signo == SIGUSR2)
        got_listen = 1;
    else
        got_stop = 1;
}

/* ---- command line ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fputs("usage: sample-desk --listen HOST:PORT [--path /events] [--out FILE|-]\n"
          "         [--secret-env NAME] [--algorithm sha256|sha1|sha512|md5]\n"
          "         [--encoding hex|base64] [--header X-AIRudder-Sign] [--prefix P]\n"
          "         [--no-verify] [--fail-first N] [--fail-status S] [--retry-after SECONDS]\n"
          "         [--reject-msg-id ID[,ID..]]... [--reject-status S] [--latency-ms MS]\n"
          "         [--close] [--down-file PATH] [--threads N] [--max-body BYTES]\n"
          "         [--tls-cert FILE --tls-key FILE]\n"
          "Records each accepted event as one JSON line; GET /stats, GET /healthz.\n"
          "SIGUSR1 stops listening, SIGUSR2 listens again, SIGTERM/SIGINT exit 0.\n",
          out);
}

/* Digits only, whole string, within [min, max]. */
static int parse_long(const char *name, const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || value < min ||
        value > max) {
        fprintf(stderr, "sample-desk: --%s: expected an integer from %ld to %ld\n", name, min,
                max);
        return -1;
    }
    *out = value;
    return 0;
}

/* HOST:PORT or [V6HOST]:PORT, numeric or resolvable; the first address is used. */
static int parse_listen(struct desk_options *opt)
{
    const char *colon = strrchr(opt->listen, ':');
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    long port;

    if (colon == NULL || colon == opt->listen ||
        (size_t)(colon - opt->listen) >= sizeof(opt->host))
        goto bad;
    memcpy(opt->host, opt->listen, (size_t)(colon - opt->listen));
    opt->host[colon - opt->listen] = '\0';
    if (parse_long("listen", colon + 1, 0, 65535, &port) != 0)
        return -1;
    char name[sizeof(opt->host)];
    size_t hlen = strlen(opt->host);
    if (opt->host[0] == '[' && hlen > 2 && opt->host[hlen - 1] == ']')
        snprintf(name, sizeof(name), "%.*s", (int)(hlen - 2), opt->host + 1);
    else
        snprintf(name, sizeof(name), "%s", opt->host);
    if (getaddrinfo(name, colon + 1, &hints, &res) != 0 || res == NULL)
        goto bad;
    memcpy(&opt->addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
bad:
    fprintf(stderr, "sample-desk: --listen: expected HOST:PORT, got \"%s\"\n", opt->listen);
    return -1;
}

/* --reject-msg-id takes one id or a comma list, and may be repeated. */
static void add_reject_ids(struct desk_options *opt, const char *list)
{
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            opt->reject_ids = arb_xrealloc(opt->reject_ids,
                                           (opt->nreject_ids + 1) * sizeof(*opt->reject_ids));
            opt->reject_ids[opt->nreject_ids++] = arb_xstrndup(p, len);
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
}

static void options_free(struct desk_options *opt)
{
    for (size_t i = 0; i < opt->nreject_ids; i++)
        free(opt->reject_ids[i]);
    free(opt->reject_ids);
    opt->reject_ids = NULL;
    opt->nreject_ids = 0;
}

enum {
    OPT_PATH = 256, OPT_OUT, OPT_SECRET_ENV, OPT_ALGORITHM, OPT_ENCODING, OPT_HEADER,
    OPT_PREFIX, OPT_NO_VERIFY, OPT_FAIL_FIRST, OPT_FAIL_STATUS, OPT_RETRY_AFTER,
    OPT_REJECT_ID, OPT_REJECT_STATUS, OPT_LATENCY, OPT_CLOSE, OPT_DOWN_FILE, OPT_THREADS,
    OPT_MAX_BODY, OPT_TLS_CERT, OPT_TLS_KEY,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"path", required_argument, NULL, OPT_PATH},
    {"out", required_argument, NULL, OPT_OUT},
    {"secret-env", required_argument, NULL, OPT_SECRET_ENV},
    {"algorithm", required_argument, NULL, OPT_ALGORITHM},
    {"encoding", required_argument, NULL, OPT_ENCODING},
    {"header", required_argument, NULL, OPT_HEADER},
    {"prefix", required_argument, NULL, OPT_PREFIX},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"fail-first", required_argument, NULL, OPT_FAIL_FIRST},
    {"fail-status", required_argument, NULL, OPT_FAIL_STATUS},
    {"retry-after", required_argument, NULL, OPT_RETRY_AFTER},
    {"reject-msg-id", required_argument, NULL, OPT_REJECT_ID},
    {"reject-status", required_argument, NULL, OPT_REJECT_STATUS},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"close", no_argument, NULL, OPT_CLOSE},
    {"down-file", required_argument, NULL, OPT_DOWN_FILE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int option_apply(struct desk_options *opt, int c, const char *arg)
{
    switch (c) {
    case 'l': opt->listen = arg; return 0;
    case OPT_PATH: opt->path = arg; return 0;
    case OPT_OUT: opt->out = arg; return 0;
    case OPT_SECRET_ENV: opt->secret_env = arg; return 0;
    case OPT_HEADER: opt->header = arg; return 0;
    case OPT_PREFIX: opt->prefix = arg; return 0;
    case OPT_DOWN_FILE: opt->down_file = arg; return 0;
    case OPT_TLS_CERT: opt->tls_cert = arg; return 0;
    case OPT_TLS_KEY: opt->tls_key = arg; return 0;
    case OPT_NO_VERIFY: opt->verify = false; return 0;
    case OPT_CLOSE: opt->close = true; return 0;
    case OPT_REJECT_ID: add_reject_ids(opt, arg); return 0;
    case OPT_ALGORITHM:
        if (arb_sig_algorithm_parse(arg, &opt->algorithm) == 0)
            return 0;
        fprintf(stderr, "sample-desk: --algorithm: expected sha256, sha1, sha512 or md5\n");
        return -1;
    case OPT_ENCODING:
        if (arb_sig_encoding_parse(arg, &opt->encoding) == 0)
            return 0;
        fprintf(stderr, "sample-desk: --encoding: expected hex or base64\n");
        return -1;
    case OPT_FAIL_FIRST: return parse_long("fail-first", arg, 0, 1000000, &opt->fail_first);
    case OPT_FAIL_STATUS:
        return parse_long("fail-status", arg, DESK_STATUS_MIN, DESK_STATUS_MAX, &opt->fail_status);
    case OPT_RETRY_AFTER: return parse_long("retry-after", arg, 0, 86400, &opt->retry_after);
    case OPT_REJECT_STATUS:
        return parse_long("reject-status", arg, DESK_STATUS_MIN, DESK_STATUS_MAX,
                          &opt->reject_status);
    case OPT_LATENCY: return parse_long("latency-ms", arg, 0, 600000, &opt->latency_ms);
    case OPT_THREADS: return parse_long("threads", arg, 1, 64, &opt->threads);
    case OPT_MAX_BODY: return parse_long("max-body", arg, 1, 1L << 30, &opt->max_body);
    }
    usage(stderr);
    return -1;
}

/* Returns 0 to run, 1 after --help, -1 on an error (already reported). */
static int options_parse(struct desk_options *opt, int argc, char **argv)
{
    *opt = (struct desk_options){
        .path = "/events", .out = "-", .secret_env = "DESK_SIGN_SECRET",
        .header = "X-AIRudder-Sign", .prefix = "", .algorithm = ARB_SIG_SHA256,
        .encoding = ARB_SIG_HEX, .verify = true, .fail_status = 503, .retry_after = -1,
        .reject_status = 400, .threads = DESK_THREADS_DEFAULT,
        .max_body = DESK_MAX_BODY_DEFAULT,
    };
    int c;
    while ((c = getopt_long(argc, argv, "l:h", long_options, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (option_apply(opt, c, optarg) != 0)
            return -1;
    }
    if (optind < argc || opt->listen == NULL) {
        usage(stderr);
        return -1;
    }
    if ((opt->tls_cert == NULL) != (opt->tls_key == NULL)) {
        fprintf(stderr, "sample-desk: --tls-cert and --tls-key go together\n");
        return -1;
    }
    return parse_listen(opt);
}

/* ---- per-key attempt counts ------------------------------------------------------------ */

static size_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    return (size_t)h;
}

static void key_counts_grow(struct key_counts *keys)
{
    size_t nslots = keys->nslots ? 2 * keys->nslots : 256;
    struct key_entry **slots = arb_xcalloc(nslots, sizeof(*slots));
    for (size_t i = 0; i < keys->nslots; i++) {
        struct key_entry *entry = keys->slots[i], *next;
        for (; entry != NULL; entry = next) {
            next = entry->next;
            size_t slot = key_hash(entry->key) % nslots;
            entry->next = slots[slot];
            slots[slot] = entry;
        }
    }
    free(keys->slots);
    keys->slots = slots;
    keys->nslots = nslots;
}

/* Count one more attempt of key and return the count (1 on first sight). */
static unsigned long key_counts_bump(struct key_counts *keys, const char *key)
{
    pthread_mutex_lock(&keys->lock);
    if (keys->nkeys >= keys->nslots)
        key_counts_grow(keys);
    struct key_entry **slot = &keys->slots[key_hash(key) % keys->nslots];
    struct key_entry *entry = *slot;
    while (entry != NULL && strcmp(entry->key, key) != 0)
        entry = entry->next;
    if (entry == NULL) {
        size_t len = strlen(key);
        entry = arb_xcalloc(1, sizeof(*entry) + len + 1);
        memcpy(entry->key, key, len + 1);
        entry->next = *slot;
        *slot = entry;
        keys->nkeys++;
    }
    unsigned long count = ++entry->count;
    pthread_mutex_unlock(&keys->lock);
    return count;
}

static void key_counts_free(struct key_counts *keys)
{
    for (size_t i = 0; i < keys->nslots; i++) {
        struct key_entry *entry = keys->slots[i], *next;
        for (; entry != NULL; entry = next) {
            next = entry->next;
            free(entry);
        }
    }
    free(keys->slots);
    keys->slots = NULL;
    keys->nslots = keys->nkeys = 0;
}

/* ---- the delay queue (--latency-ms) ---------------------------------------------------- */

/* Caller holds the lock. Unlinks before resuming: once resumed, MHD may free the request. */
static void delay_queue_resume_head(struct delay_queue *q)
{
    struct request *req = q->head;
    q->head = req->next;
    if (q->head == NULL)
        q->tail = NULL;
    MHD_resume_connection(req->connection);
}

static void *delay_queue_run(void *arg)
{
    struct delay_queue *q = arg;
    pthread_mutex_lock(&q->lock);
    while (!q->quit) {
        if (q->head == NULL) {
            pthread_cond_wait(&q->wake, &q->lock);
        } else if (q->head->due_ns > arb_now_ns()) {
            struct timespec until = {.tv_sec = q->head->due_ns / 1000000000,
                                     .tv_nsec = q->head->due_ns % 1000000000};
            pthread_cond_timedwait(&q->wake, &q->lock, &until);
        } else {
            delay_queue_resume_head(q);
        }
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static int delay_queue_start(struct delay_queue *q)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->wake, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&q->thread, NULL, delay_queue_run, q);
    if (rc != 0) {
        arb_log_error("cannot start the delay thread: %s", strerror(rc));
        pthread_cond_destroy(&q->wake);
        return -1;
    }
    q->started = true;
    return 0;
}

/* Suspend the connection until delay_ns from now; -1 (answer at once) while closed. The
 * connection is suspended before it is queued, so the timer never resumes a running one. */
static int delay_queue_push(struct delay_queue *q, struct request *req,
                            struct MHD_Connection *connection, int64_t delay_ns)
{
    pthread_mutex_lock(&q->lock);
    if (!q->open) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    MHD_suspend_connection(connection);
    req->connection = connection;
    req->due_ns = arb_now_ns() + delay_ns;
    req->next = NULL;
    if (q->tail != NULL)
        q->tail->next = req;
    else
        q->head = req;
    q->tail = req;
    if (q->head == req)
        pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/* Open before a daemon starts. */
static void delay_queue_open(struct delay_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->open = true;
    pthread_mutex_unlock(&q->lock);
}

/* Close before a daemon stops: resume every waiting connection at once (MHD_stop_daemon must
 * never find a suspended one), to be answered now or, when abandon, closed unanswered. */
static void delay_queue_close(struct delay_queue *q, bool abandon)
{
    pthread_mutex_lock(&q->lock);
    q->open = false;
    while (q->head != NULL) {
        if (abandon)
            q->head->state = REQ_ABANDONED; /* suspended: no MHD thread touches it now */
        delay_queue_resume_head(q);
    }
    pthread_mutex_unlock(&q->lock);
}

static void delay_queue_stop(struct delay_queue *q)
{
    if (!q->started)
        return;
    pthread_mutex_lock(&q->lock);
    q->quit = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);
    pthread_cond_destroy(&q->wake);
    q->started = false;
}

/* ---- deciding and recording ------------------------------------------------------------ */

static bool desk_is_down(const struct desk *desk)
{
    return desk->opt.down_file != NULL && access(desk->opt.down_file, F_OK) == 0;
}

static void tally(struct desk *desk, unsigned status)
{
    atomic_fetch_add(&desk->requests, 1);
    if (status >= 200 && status < 300)
        atomic_fetch_add(&desk->accepted, 1);
    else
        atomic_fetch_add(&desk->rejected, 1);
}

static void answer_set(struct request *req, unsigned status, const char *body)
{
    req->answer = (struct answer){.status = status, .body = body};
}

/* messages[0].msg_id, as a string or an integer, is one of the --reject-msg-id values. */
static bool msg_id_rejected(const struct desk_options *opt, json_t *event)
{
    json_t *id = json_object_get(json_array_get(json_object_get(event, "messages"), 0),
                                 "msg_id");
    char number[32];
    const char *text = NULL;
    if (json_is_string(id)) {
        text = json_string_value(id);
    } else if (json_is_integer(id)) {
        snprintf(number, sizeof(number), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        text = number;
    }
    for (size_t i = 0; text != NULL && i < opt->nreject_ids; i++)
        if (strcmp(text, opt->reject_ids[i]) == 0)
            return true;
    return false;
}

static int dump_to_buf(const char *data, size_t size, void *arg)
{
    arb_buf_append(arg, data, size);
    return 0;
}

/* Append one line to the output with a single write(2). Steals key_json. */
static int record_event(struct desk *desk, json_t *key_json, unsigned long attempt,
                        bool signature_ok, json_t *event, int64_t received_at)
{
    struct arb_buf line;
    int rc = -1;
    json_t *record = json_pack("{s:I, s:o, s:b, s:I, s:O}", "received_at",
                               (json_int_t)received_at, "idempotency_key", key_json,
                               "signature_ok", signature_ok, "attempt", (json_int_t)attempt,
                               "event", event);
    arb_buf_init(&line);
    if (record == NULL || json_dump_callback(record, dump_to_buf, &line, JSON_COMPACT) != 0)
        goto out;
    arb_buf_append(&line, "\n", 1);
    pthread_mutex_lock(&desk->out_lock);
    ssize_t written = write(desk->out_fd, line.data, line.len);
    pthread_mutex_unlock(&desk->out_lock);
    if (written != (ssize_t)line.len) {
        arb_log_error("cannot write the output line: %s",
                      written < 0 ? strerror(errno) : "short write");
        goto out;
    }
    rc = 0;
out:
    json_decref(record);
    arb_buf_free(&line);
    return rc;
}

/* A signed JSON event: count the attempt, then reject, fail or accept and record it. */
static void decide_event(struct desk *desk, struct MHD_Connection *connection,
                         struct request *req, json_t *event, bool signature_ok,
                         int64_t received_at)
{
    const struct desk_options *opt = &desk->opt;
    const char *key =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Idempotency-Key");
    json_t *key_json = key != NULL ? json_string(key) : json_null();
    if (key_json == NULL) { /* not UTF-8 */
        answer_set(req, 400, ERR_KEY);
        return;
    }

    unsigned long attempt = key_counts_bump(&desk->keys, key != NULL ? key : "");
    if (msg_id_rejected(opt, event)) {
        answer_set(req, (unsigned)opt->reject_status, ERR_REJECTED);
    } else if (attempt <= (unsigned long)opt->fail_first) {
        answer_set(req, (unsigned)opt->fail_status, ERR_INJECTED);
        req->answer.retry_after = opt->retry_after >= 0;
    } else if (record_event(desk, json_incref(key_json), attempt, signature_ok, event,
                            received_at) != 0) {
        answer_set(req, 500, ERR_RECORD);
    } else {
        answer_set(req, 200, OK_EMPTY);
    }
    json_decref(key_json);
}

/* Returns whether the body passed; logs why not, without the signature or the secret. */
static bool signature_check(struct desk *desk, struct MHD_Connection *connection,
                            const struct arb_buf *body)
{
    const char *sig = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, desk->sig.header);
    struct arb_error err;
    arb_error_clear(&err);
    if (!desk->have_secret)
        return false;
    if (arb_signature_verify(&desk->sig, NULL, sig, NULL, body->data, body->len, &err) == 0)
        return true;
    if (desk->opt.verify)
        arb_log_kv(ARB_LOG_WARN, "signature rejected", "reason", err.message, "idempotency_key",
                   MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Idempotency-Key"),
                   NULL);
    return false;
}

/* The whole body is in: decide the answer (and record the event when it is 2xx). */
static void decide(struct desk *desk, struct MHD_Connection *connection, struct request *req)
{
    json_t *event = NULL;
    json_error_t jerr;

    if (desk_is_down(desk)) {
        answer_set(req, 503, ERR_DOWN);
    } else if (req->too_large) {
        answer_set(req, 413, ERR_TOO_LARGE);
    } else {
        bool signature_ok = signature_check(desk, connection, &req->body);
        if (!signature_ok && desk->opt.verify)
            answer_set(req, 401, ERR_SIGNATURE);
        else if ((event = json_loadb(req->body.data ? req->body.data : "", req->body.len,
                                     JSON_DECODE_ANY, &jerr)) == NULL)
            answer_set(req, 400, ERR_JSON);
        else
            decide_event(desk, connection, req, event, signature_ok, req->received_at);
    }
    json_decref(event);
    tally(desk, req->answer.status);
    req->state = REQ_DECIDED;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static enum MHD_Result queue_answer(const struct desk *desk, struct MHD_Connection *connection,
                                    const struct answer *answer)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(
        strlen(answer->body), (void *)answer->body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (answer->retry_after) {
        char seconds[24];
        snprintf(seconds, sizeof(seconds), "%ld", desk->opt.retry_after);
        MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (answer->allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, answer->allow);
    if (desk->opt.close)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(connection, answer->status, response);
    MHD_destroy_response(response);
    return rc;
}

/* GET /stats, GET /healthz, and 404 or 405 for everything that is not the events path. */
static enum MHD_Result serve_other(struct desk *desk, struct MHD_Connection *connection,
                                   const char *url, const char *method)
{
    bool stats = strcmp(url, "/stats") == 0, health = strcmp(url, "/healthz") == 0;
    struct answer answer = {.status = 404, .body = ERR_NOT_FOUND};
    char text[160];

    if (strcmp(url, desk->opt.path) == 0) {
        answer = (struct answer){.status = 405, .body = ERR_METHOD, .allow = "POST"};
    } else if ((stats || health) && strcmp(method, "GET") != 0) {
        answer = (struct answer){.status = 405, .body = ERR_METHOD, .allow = "GET"};
    } else if (stats) {
        snprintf(text, sizeof(text), "{\"requests\":%lu,\"accepted\":%lu,\"rejected\":%lu}",
                 atomic_load(&desk->requests), atomic_load(&desk->accepted),
                 atomic_load(&desk->rejected));
        return queue_answer(desk, connection, &(struct answer){.status = 200, .body = text});
    } else if (health) {
        bool down = desk_is_down(desk);
        answer = (struct answer){.status = down ? 503 : 200, .body = down ? ERR_DOWN : OK_HEALTH};
        return queue_answer(desk, connection, &answer);
    }
    tally(desk, answer.status);
    return queue_answer(desk, connection, &answer);
}

static void body_append(const struct desk *desk, struct request *req, const char *data,
                        size_t size)
{
    if (req->too_large || req->body.len + size > (size_t)desk->opt.max_body) {
        req->too_large = true; /* keep reading, drop the bytes, answer 413 at the end */
        return;
    }
    arb_buf_append(&req->body, data, size);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    struct desk *desk = cls;
    struct request *req = *state;
    (void)version;

    if (req == NULL) {
        if (strcmp(url, desk->opt.path) != 0 || strcmp(method, "POST") != 0)
            return serve_other(desk, connection, url, method);
        req = arb_xcalloc(1, sizeof(*req));
        arb_buf_init(&req->body);
        atomic_fetch_add(&desk->in_flight, 1);
        *state = req;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        body_append(desk, req, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->state == REQ_READING) {
        req->received_at = arb_wall_ms();
        req->state = REQ_WAITING;
        if (desk->opt.latency_ms > 0 &&
            delay_queue_push(&desk->delays, req, connection, desk->opt.latency_ms * 1000000) == 0)
            return MHD_YES; /* resumed by the timer thread, then called again */
    }
    if (req->state == REQ_ABANDONED)
        return MHD_NO; /* SIGUSR1: close it unanswered, as a desk that went away would */
    if (req->state == REQ_WAITING)
        decide(desk, connection, req);
    return queue_answer(desk, connection, &req->answer);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **state,
                         enum MHD_RequestTerminationCode code)
{
    struct desk *desk = cls;
    struct request *req = *state;
    (void)connection;
    (void)code;
    if (req == NULL)
        return;
    arb_buf_free(&req->body);
    free(req);
    *state = NULL;
    atomic_fetch_sub(&desk->in_flight, 1);
}

/* libmicrohttpd's own messages, as warnings in our log format. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct desk *desk = cls;
    char text[512];
    if (atomic_load(&desk->stopping))
        return;
    vsnprintf(text, sizeof(text), fmt, ap);
    text[strcspn(text, "\n")] = '\0';
    arb_log_kv(ARB_LOG_WARN, "libmicrohttpd", "detail", text, NULL);
}

/* Start the daemon on --listen; after the first start the port is the bound one, so a
 * restart after SIGUSR2 (or with port 0) comes back on the same port. */
static int desk_listen(struct desk *desk)
{
    struct sockaddr_storage *addr = &desk->opt.addr;
    bool tls = desk->tls_cert != NULL;
    struct MHD_OptionItem tls_options[] = { /* without TLS, the list ends at once */
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, desk->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, desk->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (addr->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
                     (tls ? MHD_USE_TLS : 0);
    delay_queue_open(&desk->delays);
    uint16_t port = ntohs(addr->ss_family == AF_INET6 ? ((struct sockaddr_in6 *)addr)->sin6_port
                                                      : ((struct sockaddr_in *)addr)->sin_port);
    desk->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, desk, /* the port only names it in messages */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, desk, /* first, or MHD warns */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)desk->opt.threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, desk,
        MHD_OPTION_CONNECTION_LIMIT, DESK_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, DESK_IDLE_TIMEOUT_S,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_ARRAY, tls_options,
        MHD_OPTION_END);
    if (desk->daemon == NULL) {
        arb_log_error("cannot listen on %s", desk->opt.listen);
        return -1;
    }
    port = MHD_get_daemon_info(desk->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    if (addr->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)addr)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)addr)->sin_port = htons(port);
    fprintf(stderr, "listening on %s:%u%s\n", desk->opt.host, (unsigned)port,
            tls ? " (HTTPS)" : "");
    return 0;
}

/* Stop accepting (the socket is closed, so connects are refused at once), then stop the
 * daemon and close its connections. With a grace (SIGTERM), waiting requests are answered
 * now and in-flight ones get up to grace_ms to finish; without one (SIGUSR1), waiting
 * requests are closed unanswered and unrecorded. Returns whether a daemon was running. */
static bool desk_unlisten(struct desk *desk, int grace_ms)
{
    if (desk->daemon == NULL)
        return false;
    MHD_socket fd = MHD_quiesce_daemon(desk->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    atomic_store(&desk->stopping, true);
    delay_queue_close(&desk->delays, grace_ms == 0);
    for (int waited = 0; waited < grace_ms && atomic_load(&desk->in_flight) > 0; waited += 10)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000}, NULL);
    MHD_stop_daemon(desk->daemon);
    desk->daemon = NULL;
    atomic_store(&desk->stopping, false);
    return true;
}

/* ---- set-up, main loop, teardown ------------------------------------------------------- */

/* Read a PEM file whole, NUL-terminated, in one allocation of its size (so a key leaves no
 * copies in freed memory), and refuse it unless it holds marker, the line that starts a PEM
 * <what>. NULL after logging why. */
static char *pem_read(const char *option, const char *path, const char *what,
                       const char *marker, size_t *len)
{
    char *pem = NULL;
    struct stat st;
    FILE *fp = fopen(path, "rb");

    if (fp == NULL) {
        arb_log_error("--%s %s: %s", option, path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > DESK_PEM_MAX) {
        arb_log_error("--%s %s: not a regular file of at most %d bytes", option, path,
                      DESK_PEM_MAX);
        goto out;
    }
    pem = arb_xmalloc((size_t)st.st_size + 1);
    *len = fread(pem, 1, (size_t)st.st_size, fp);
    pem[*len] = '\0';
    if (ferror(fp) || strstr(pem, marker) == NULL) {
        if (ferror(fp))
            arb_log_error("--%s %s: %s", option, path, strerror(errno));
        else
            arb_log_error("--%s %s: no PEM %s in it", option, path, what);
        OPENSSL_cleanse(pem, *len);
        free(pem);
        pem = NULL;
    }
out:
    fclose(fp);
    return pem;
}

/* Read --tls-cert and --tls-key (options_parse made sure both are given). */
static int desk_tls_load(struct desk *desk)
{
    size_t cert_len;

    desk->tls_cert = pem_read("tls-cert", desk->opt.tls_cert, "certificate",
                              "-----BEGIN CERTIFICATE-----", &cert_len);
    if (desk->tls_cert == NULL)
        return -1;
    desk->tls_key = pem_read("tls-key", desk->opt.tls_key, "private key", "PRIVATE KEY-----",
                             &desk->tls_key_len);
    return desk->tls_key != NULL ? 0 : -1;
}

static int desk_open(struct desk *desk)
{
    const struct desk_options *opt = &desk->opt;
    const char *secret = getenv(opt->secret_env);
    struct arb_error err;

    desk->have_secret = secret != NULL && secret[0] != '\0';
    if (!desk->have_secret && opt->verify) {
        arb_log_error("environment variable %s is not set (or use --no-verify)", opt->secret_env);
        return -1;
    }
    if (!opt->verify)
        arb_log_warn("signature verification is off (--no-verify)");
    desk->secret = (struct arb_secret){.value = (char *)secret, .len = secret ? strlen(secret) : 0};
    desk->sig = (struct arb_signature_conf){
        .mode = ARB_SIG_ENFORCE, .algorithm = opt->algorithm, .encoding = opt->encoding,
        .header = (char *)opt->header, .prefix = (char *)opt->prefix, .key_header = "",
        .secrets = &desk->secret, .nsecrets = 1};
    if (desk->have_secret && arb_signature_prepare(&desk->sig, &err) != 0) {
        arb_log_error("cannot prepare the signature check: %s", err.message);
        return -1;
    }

    if (opt->tls_cert != NULL && desk_tls_load(desk) != 0)
        return -1;
    if (strcmp(opt->out, "-") == 0) {
        desk->out_fd = STDOUT_FILENO;
    } else {
        desk->out_fd = open(opt->out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (desk->out_fd < 0) {
            arb_log_error("cannot open %s: %s", opt->out, strerror(errno));
            return -1;
        }
    }
    return delay_queue_start(&desk->delays);
}

/* Accepts a half-opened desk. */
static void desk_close(struct desk *desk)
{
    desk_unlisten(desk, DESK_STOP_GRACE_MS);
    delay_queue_stop(&desk->delays);
    if (desk->out_fd >= 0 && desk->out_fd != STDOUT_FILENO)
        close(desk->out_fd);
    desk->out_fd = -1;
    key_counts_free(&desk->keys);
    options_free(&desk->opt);
    if (desk->tls_key != NULL)
        OPENSSL_cleanse(desk->tls_key, desk->tls_key_len);
    free(desk->tls_key);
    free(desk->tls_cert);
    desk->tls_key = desk->tls_cert = NULL;
    EVP_MAC_CTX_free(desk->secret.mac); /* the rest of sig is borrowed */
    desk->secret.mac = NULL;
}

/* Handlers for the four signals, which stay blocked everywhere except in sigsuspend below;
 * call before any thread starts so every thread inherits the mask. */
static void signals_setup(sigset_t *wait_mask)
{
    static const int signals[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block;

    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        sigaction(signals[i], &sa, NULL);
        sigaddset(&block, signals[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &block, wait_mask);
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
        sigdelset(wait_mask, signals[i]);
}

static void main_loop(struct desk *desk, const sigset_t *wait_mask)
{
    while (!got_stop) {
        if (got_unlisten) {
            got_unlisten = 0;
            if (desk_unlisten(desk, 0))
                arb_log_info("stopped listening (SIGUSR1)");
        }
        if (got_listen) {
            got_listen = 0;
            if (desk->daemon == NULL)
                desk_listen(desk); /* on failure, logged; another SIGUSR2 tries again */
        }
        sigsuspend(wait_mask);
    }
    arb_log_info("stopping");
}

int main(int argc, char **argv)
{
    struct desk desk = {.out_fd = -1};
    sigset_t wait_mask;
    int rc = 1;

    pthread_mutex_init(&desk.out_lock, NULL);
    pthread_mutex_init(&desk.keys.lock, NULL);
    pthread_mutex_init(&desk.delays.lock, NULL);
    arb_log_setup(ARB_LOG_INFO, ARB_LOG_TEXT, NULL, NULL);

    int parsed = options_parse(&desk.opt, argc, argv);
    if (parsed != 0) {
        rc = parsed > 0 ? 0 : 1;
        goto out;
    }
    signals_setup(&wait_mask);
    if (desk_open(&desk) != 0 || desk_listen(&desk) != 0)
        goto out;
    main_loop(&desk, &wait_mask);
    rc = 0;
out:
    desk_close(&desk);
    pthread_mutex_destroy(&desk.delays.lock);
    pthread_mutex_destroy(&desk.keys.lock);
    pthread_mutex_destroy(&desk.out_lock);
    arb_log_shutdown();
    return rc;
}

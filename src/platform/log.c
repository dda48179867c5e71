/* log.c - structured log lines (see log.h).
 *
 * State is process-wide, like any daemon's logger: a level, a format and a file descriptor.
 * A line is built in memory and written with one write(2); reopening swaps the descriptor
 * with dup2 so writers never see a closed one. */
#include "arb/log.h"
#include "arb/buf.h"
#include "arb/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = ARB_LOG_INFO;
static enum arb_log_format log_format = ARB_LOG_TEXT;
static int log_fd = STDERR_FILENO;
static char log_path[4096];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *arb_log_level_name(enum arb_log_level level)
{
    return level_names[level];
}

static int open_log_file(const char *path, struct arb_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
        return arb_error_set(err, ARB_E_IO, "cannot open log file %s: %s", path, strerror(errno));
    return fd;
}

int arb_log_setup(enum arb_log_level level, enum arb_log_format format, const char *file,
                  struct arb_error *err)
{
    atomic_store(&log_level, level);
    log_format = format;
    log_path[0] = '\0';
    if (file == NULL || file[0] == '\0')
        return 0;
    int fd = open_log_file(file, err);
    if (fd < 0)
        return -1;
    snprintf(log_path, sizeof(log_path), "%s", file);
    log_fd = fd;
    return 0;
}

int arb_log_reopen(struct arb_error *err)
{
    if (log_path[0] == '\0')
        return 0;
    int fd = open_log_file(log_path, err);
    if (fd < 0)
        return -1;
    dup2(fd, log_fd);
    close(fd);
    return 0;
}

void arb_log_shutdown(void)
{
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
    log_path[0] = '\0';
}

bool arb_log_enabled(enum arb_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* The second's text is made once per thread per second; a line adds only the milliseconds. */
static void format_time(char *out)
{
    static _Thread_local struct {
        time_t sec;
        char text[24];
    } cached = {-1, ""};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached.sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(cached.text, sizeof(cached.text), "%Y-%m-%dT%H:%M:%S", &tm);
        cached.sec = ts.tv_sec;
    }
    int ms = (int)(ts.tv_nsec / 1000000);
    size_t n = strlen(cached.text);
    memcpy(out, cached.text, n);
    out[n++] = '.';
    out[n++] = (char)('0' + ms / 100);
    out[n++] = (char)('0' + ms / 10 % 10);
    out[n++] = (char)('0' + ms % 10);
    out[n++] = 'Z';
    out[n] = '\0';
}

/* Each thread builds its lines in one buffer of its own, kept between lines. */
static pthread_key_t line_key;
static pthread_once_t line_key_once = PTHREAD_ONCE_INIT;

static void line_free(void *line)
{
    arb_buf_free(line);
    free(line);
}

static void line_key_create(void)
{
    pthread_key_create(&line_key, line_free);
}

static struct arb_buf *thread_line(void)
{
    pthread_once(&line_key_once, line_key_create);
    struct arb_buf *line = pthread_getspecific(line_key);
    if (line == NULL) {
        line = arb_xmalloc(sizeof(*line));
        arb_buf_init(line);
        arb_buf_reserve(line, 1024);
        pthread_setspecific(line_key, line);
    }
    arb_buf_reset(line);
    return line;
}

static void write_line(struct arb_buf *line)
{
    arb_buf_append(line, "\n", 1);
    const char *p = line->data;
    size_t left = line->len;
    while (left > 0) {
        ssize_t n = write(log_fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        p += n;
        left -= (size_t)n;
    }
}

/* Printable ASCII other than '"' and '\\' stands in a JSON string as it is. */
static bool is_plain(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return false;
    return true;
}

static bool needs_quotes(const char *s)
{
    if (*s == '\0')
        return true;
    for (; *s; s++)
        if (*s <= ' ' || *s == '"' || *s == '=' || *s == '\\')
            return true;
    return false;
}

static void append_json_string(struct arb_buf *line, const char *s)
{
    if (is_plain(s)) {
        arb_buf_append(line, "\"", 1);
        arb_buf_puts(line, s);
        arb_buf_append(line, "\"", 1);
        return;
    }
    json_t *str = json_string(s);
    if (str == NULL) /* not valid UTF-8: say so rather than write it */
        str = json_string("<invalid utf-8>");
    size_t need = json_dumpb(str, NULL, 0, JSON_ENCODE_ANY);
    arb_buf_reserve(line, need);
    line->len += json_dumpb(str, line->data + line->len, need, JSON_ENCODE_ANY);
    line->data[line->len] = '\0';
    json_decref(str);
}

static void append_pair(struct arb_buf *line, const char *key, const char *value)
{
    if (log_format == ARB_LOG_JSON) {
        arb_buf_append(line, ",", 1);
        append_json_string(line, key);
        arb_buf_append(line, ":", 1);
        append_json_string(line, value);
        return;
    }
    arb_buf_append(line, " ", 1);
    arb_buf_puts(line, key);
    arb_buf_append(line, "=", 1);
    if (needs_quotes(value))
        append_json_string(line, value);
    else
        arb_buf_puts(line, value);
}

static void emit(enum arb_log_level level, const char *msg, va_list *kv)
{
    struct arb_buf *line = thread_line();
    char ts[32];
    format_time(ts);
    if (log_format == ARB_LOG_JSON) {
        arb_buf_puts(line, "{\"ts\":\"");
        arb_buf_puts(line, ts);
        arb_buf_puts(line, "\",\"level\":\"");
        arb_buf_puts(line, level_names[level]);
        arb_buf_puts(line, "\",\"msg\":");
        append_json_string(line, msg);
    } else {
        static const char *const padded[] = {"error ", "warn  ", "info  ", "debug "};
        arb_buf_puts(line, ts);
        arb_buf_append(line, " ", 1);
        arb_buf_puts(line, padded[level]);
        arb_buf_puts(line, msg);
    }
    const char *key;
    while (kv != NULL && (key = va_arg(*kv, const char *)) != NULL) {
        const char *value = va_arg(*kv, const char *);
        if (value != NULL)
            append_pair(line, key, value);
    }
    if (log_format == ARB_LOG_JSON)
        arb_buf_append(line, "}", 1);
    write_line(line);
}

void arb_log_kv(enum arb_log_level level, const char *msg, ...)
{
    if (!arb_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, msg);
    emit(level, msg, &ap);
    va_end(ap);
}

void arb_logf(enum arb_log_level level, const char *fmt, ...)
{
    if (!arb_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    emit(level, msg, NULL);
}

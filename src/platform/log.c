/* log.c - structured log lines (see log.h).
 *
 * State is process-wide, like any daemon's logger: a level, a format and a file descriptor.
 * A line is built in memory and written with one write(2); reopening swaps the descriptor
 * with dup2 so writers never see a closed one. */
#include "arb/log.h"
#include "arb/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
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

static void format_time(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
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
    json_t *str = json_string(s);
    if (str == NULL) /* not valid UTF-8: say so rather than write it */
        str = json_string("<invalid utf-8>");
    char *enc = json_dumps(str, JSON_ENCODE_ANY);
    arb_buf_puts(line, enc);
    free(enc);
    json_decref(str);
}

static void emit(enum arb_log_level level, const char *msg, va_list *kv)
{
    struct arb_buf line;
    char ts[40];
    arb_buf_init(&line);
    format_time(ts, sizeof(ts));
    if (log_format == ARB_LOG_JSON) {
        arb_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
        append_json_string(&line, msg);
    } else {
        arb_buf_printf(&line, "%s %-5s %s", ts, level_names[level], msg);
    }
    const char *key;
    while (kv != NULL && (key = va_arg(*kv, const char *)) != NULL) {
        const char *value = va_arg(*kv, const char *);
        if (value == NULL)
            continue;
        if (log_format == ARB_LOG_JSON) {
            arb_buf_puts(&line, ",");
            append_json_string(&line, key);
            arb_buf_puts(&line, ":");
            append_json_string(&line, value);
        } else {
            arb_buf_printf(&line, " %s=", key);
            if (needs_quotes(value))
                append_json_string(&line, value);
            else
                arb_buf_puts(&line, value);
        }
    }
    if (log_format == ARB_LOG_JSON)
        arb_buf_puts(&line, "}");
    write_line(&line);
    arb_buf_free(&line);
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

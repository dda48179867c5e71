/* listen_addr.c - listen addresses as text (see listen_addr.h). */
#include "arb/listen_addr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* 1..65535, digits only. */
static int parse_port(const char *text, int *port)
{
    size_t len = strspn(text, "0123456789");
    if (len == 0 || len > 5 || text[len] != '\0')
        return -1;
    long value = strtol(text, NULL, 10);
    if (value < 1 || value > 65535)
        return -1;
    *port = (int)value;
    return 0;
}

int arb_listen_parse(const char *listen, char *host, size_t host_size, int *port)
{
    const char *start = listen, *end, *colon;

    if (listen[0] == '[') {
        start = listen + 1;
        end = strchr(start, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        colon = end + 1;
    } else {
        colon = end = strchr(listen, ':');
        if (colon == NULL || strchr(colon + 1, ':') != NULL)
            return -1;
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= host_size || memchr(start, '[', len) != NULL ||
        memchr(start, ']', len) != NULL || parse_port(colon + 1, port) != 0)
        return -1;
    memcpy(host, start, len);
    host[len] = '\0';
    return 0;
}

bool arb_listen_is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcasecmp(host, "localhost") == 0;
}

/* listen.c - listen addresses (see listen.h). */
#include "listen.h"

#include "arb/listen_addr.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>

int arb_listen_resolve(const char *listen, struct sockaddr_storage *addr, bool *ipv6,
                       struct arb_error *err)
{
    char host[256], port_text[8];
    int port = 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *found = NULL;

    if (arb_listen_parse(listen, host, sizeof(host), &port) != 0)
        return arb_error_set(err, ARB_E_INVALID, "cannot parse listen address \"%s\"", listen);
    snprintf(port_text, sizeof(port_text), "%d", port);
    int rc = getaddrinfo(host[0] ? host : NULL, port_text, &hints, &found);
    if (rc != 0)
        return arb_error_set(err, ARB_E_INVALID, "%s: %s", listen, gai_strerror(rc));
    memcpy(addr, found->ai_addr, found->ai_addrlen);
    *ipv6 = found->ai_family == AF_INET6;
    freeaddrinfo(found);
    return 0;
}

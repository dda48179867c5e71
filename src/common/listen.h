/* listen.h - turn a configured "host:port" (or "[v6]:port") into a socket address for
 * libmicrohttpd, resolving a host name if one is given. */
#ifndef ARB_LISTEN_H
#define ARB_LISTEN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "arb/error.h"

int arb_listen_resolve(const char *listen, struct sockaddr_storage *addr, bool *ipv6,
                       struct arb_error *err);

#endif

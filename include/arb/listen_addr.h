/* listen_addr.h - the text of a listen address: "host:port" or "[ipv6]:port". */
#ifndef ARB_LISTEN_ADDR_H
#define ARB_LISTEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Split listen into host and port (1..65535, digits only); -1 when malformed. */
int arb_listen_parse(const char *listen, char *host, size_t host_size, int *port);

/* Whether a parsed host is a loopback address (127.0.0.0/8, ::1, localhost). */
bool arb_listen_is_loopback(const char *host);

#endif

/* conf_load.h - the two binaries' configuration files: read (platform), then parsed (core)
 * with the process's environment and files as the resolver. */
#ifndef ARB_CONF_LOAD_H
#define ARB_CONF_LOAD_H

#include "arb/config.h"

/* Every problem goes to errors as "file:line: message" (an unreadable file as
 * "file: cannot open: reason"). */
int arb_bridge_conf_load(const char *file, struct arb_bridge_conf **out,
                         struct arb_conf_errors *errors);
int arb_replay_conf_load(const char *file, struct arb_replay_conf **out,
                         struct arb_conf_errors *errors);

#endif

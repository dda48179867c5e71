/* process.c - signal flags and error printing for both binaries (see process.h). */
#include "process.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t arb_stop_requested;
volatile sig_atomic_t arb_reopen_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        arb_reopen_requested = 1;
        return;
    }
    if (sig == SIGINT && arb_stop_requested)
        _exit(ARB_EXIT_FATAL); /* a second Ctrl-C: stop now */
    arb_stop_requested = 1;
}

void arb_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void arb_conf_errors_print(const struct arb_conf_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        fprintf(stderr, "%s\n", errors->messages[i]);
}

/* process.c - signal flags and error printing for both binaries (see process.h). */
#include "process.h"

#include "arb/log.h"

#include <pthread.h>
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

static void mask_signals(int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(how, &set, NULL);
}

void arb_signals_block(void)
{
    mask_signals(SIG_BLOCK);
}

void arb_signals_unblock(void)
{
    mask_signals(SIG_UNBLOCK);
}

int arb_process_start(const struct arb_log_conf *log)
{
    struct arb_error err;
    if (arb_log_setup(log->level, log->format, log->file, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    arb_signals_install();
    return 0;
}

void arb_conf_errors_print(const struct arb_conf_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        fprintf(stderr, "%s\n", errors->messages[i]);
}

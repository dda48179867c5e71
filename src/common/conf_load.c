/* conf_load.c - configuration files (see conf_load.h). */
#include "conf_load.h"

#include "arb/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_FILE_MAX (16 * 1024 * 1024) /* a configuration, not a data set */

/* The file's text, or NULL with the problem in errors. */
static char *read_conf(const char *file, struct arb_conf_errors *errors)
{
    struct arb_buf text;
    struct arb_error err;
    FILE *fp = fopen(file, "r");

    if (fp == NULL) {
        arb_conf_errors_add(errors, file, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    fclose(fp);
    arb_buf_init(&text);
    if (arb_platform_read_file(file, CONF_FILE_MAX, &text, &err) != 0) {
        arb_conf_errors_add(errors, file, 0, "%s", err.message);
        arb_buf_free(&text);
        return NULL;
    }
    return arb_buf_detach(&text, NULL);
}

int arb_bridge_conf_load(const char *file, struct arb_bridge_conf **out,
                         struct arb_conf_errors *errors)
{
    char *text = read_conf(file, errors);
    int rc = -1;
    *out = NULL;
    if (text != NULL)
        rc = arb_bridge_conf_parse(file, text, arb_platform_resolver(), out, errors);
    free(text);
    return rc;
}

int arb_replay_conf_load(const char *file, struct arb_replay_conf **out,
                         struct arb_conf_errors *errors)
{
    char *text = read_conf(file, errors);
    int rc = -1;
    *out = NULL;
    if (text != NULL)
        rc = arb_replay_conf_parse(file, text, arb_platform_resolver(), out, errors);
    free(text);
    return rc;
}

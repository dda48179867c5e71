/* env.c - the process's environment and files, as the configuration sees them (see
 * platform.h). */
#include "arb/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(void *opaque, const char *name)
{
    (void)opaque;
    return getenv(name);
}

int arb_platform_read_file(const char *path, size_t max, struct arb_buf *out,
                           struct arb_error *err)
{
    char chunk[4096];
    size_t n;
    int rc = -1;
    FILE *fp = fopen(path, "rb");

    if (fp == NULL)
        return arb_error_set(err, ARB_E_IO, "cannot read %s: %s", path, strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        arb_buf_append(out, chunk, n);
        if (out->len > max) {
            arb_error_set(err, ARB_E_IO, "cannot read %s: %s", path, strerror(EFBIG));
            goto out;
        }
    }
    if (ferror(fp)) {
        arb_error_set(err, ARB_E_IO, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    fclose(fp);
    return rc;
}

static int read_file(void *opaque, const char *path, size_t max, struct arb_buf *out,
                     struct arb_error *err)
{
    (void)opaque;
    return arb_platform_read_file(path, max, out, err);
}

static const struct arb_resolver platform_resolver = {env, read_file, NULL};

const struct arb_resolver *arb_platform_resolver(void)
{
    return &platform_resolver;
}

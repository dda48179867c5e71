/* conf_reference.c - print the configuration reference of both binaries as Markdown tables,
 * straight from the key tables the loader uses (arb_*_conf_describe). README.md embeds this
 * output between markers; the docs.config_reference test fails when they differ, and
 * scripts/update-config-reference.sh rewrites the README section. */
#include "arb/config.h"

#include <stdio.h>
#include <string.h>

/* Markdown table cells: '|' would end the cell. */
static void cell(const char *text)
{
    for (; *text; text++) {
        if (*text == '|')
            fputs("\\|", stdout);
        else
            putchar(*text);
    }
}

static void row(void *opaque, const struct arb_conf_doc *doc)
{
    (void)opaque;
    printf("| `%s` | ", doc->key);
    cell(doc->type);
    fputs(" | ", stdout);
    if (doc->default_value != NULL) {
        putchar('`');
        cell(doc->default_value);
        putchar('`');
    } else {
        fputs(doc->required ? "required" : "none", stdout);
    }
    fputs(" | ", stdout);
    cell(doc->doc);
    fputs(" |\n", stdout);
}

static void table(const char *title, void (*describe)(arb_conf_doc_fn *fn, void *opaque))
{
    printf("#### %s\n\n| key | type | default | meaning |\n|---|---|---|---|\n", title);
    describe(row, NULL);
    putchar('\n');
}

int main(void)
{
    table("airudder-bridge (`conf/airudder-bridge.conf`)", arb_bridge_conf_describe);
    table("airudder-replay (`conf/airudder-replay.conf`)", arb_replay_conf_describe);
    return 0;
}

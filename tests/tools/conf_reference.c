/* conf_reference.c - print the configuration reference of both binaries as Markdown tables,
 * straight from the key tables the loader uses (arb_*_conf_docs). README.md embeds this
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

static void table(const char *title, const struct arb_conf_doc *docs, size_t count)
{
    printf("#### %s\n\n| key | type | default | meaning |\n|---|---|---|---|\n", title);
    for (size_t i = 0; i < count; i++) {
        printf("| `%s` | ", docs[i].key);
        cell(docs[i].type);
        fputs(" | ", stdout);
        if (docs[i].default_value != NULL) {
            putchar('`');
            cell(docs[i].default_value);
            putchar('`');
        } else {
            fputs("required", stdout);
        }
        fputs(" | ", stdout);
        cell(docs[i].doc);
        fputs(" |\n", stdout);
    }
    putchar('\n');
}

int main(void)
{
    size_t nbridge, nreplay;
    const struct arb_conf_doc *bridge = arb_bridge_conf_docs(&nbridge);
    const struct arb_conf_doc *replay = arb_replay_conf_docs(&nreplay);
    table("airudder-bridge (`conf/airudder-bridge.conf`)", bridge, nbridge);
    table("airudder-replay (`conf/airudder-replay.conf`)", replay, nreplay);
    return 0;
}

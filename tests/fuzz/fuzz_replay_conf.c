/* fuzz_replay_conf.c - the replay's configuration loader (arb_replay_conf_parse) on any text.
 *
 * Beyond not crashing or leaking: a file is either loaded with no error, or refused with
 * at least one error, each "file:line: message" naming this file. */
#include "check.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/config.h"
#include "conf_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char path[] = "fuzz.conf";
    char *text = arb_fuzz_conf_text(data, size);
    if (text == NULL)
        return 0;
    struct arb_replay_conf *conf = NULL;
    struct arb_conf_errors errors = {0};
    if (arb_replay_conf_parse(path, text, arb_fuzz_resolver(), &conf, &errors) == 0) {
        CHECK(conf != NULL && errors.count == 0);
        CHECK(conf->replay.ntopics > 0 && conf->desk.url != NULL);
    } else {
        CHECK(conf == NULL && errors.count > 0);
        for (size_t i = 0; i < errors.count; i++)
            CHECK(strncmp(errors.messages[i], path, strlen(path)) == 0);
    }
    arb_replay_conf_destroy(conf);
    arb_conf_errors_clear(&errors);
    free(text);
    return 0;
}

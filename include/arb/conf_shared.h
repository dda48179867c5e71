/* conf_shared.h - the configuration groups both binaries have (kafka, log, deadletter, a
 * signature group, a dedup group) and the checks of single values they share. */
#ifndef ARB_CONF_SHARED_H
#define ARB_CONF_SHARED_H

#include "arb/conf_engine.h"

extern const struct arb_conf_group arb_conf_signature_group;
extern const struct arb_conf_group arb_conf_kafka_group;
extern const struct arb_conf_group arb_conf_log_group;
extern const struct arb_conf_group arb_conf_deadletter_group;

/* A list of secrets: strings, or groups { id; secret; } (for a signature's key_header). */
arb_conf_load_fn arb_conf_load_secrets;
arb_conf_release_fn arb_conf_release_secrets;

/* In enforce mode the signature group at path (whose setting is group, NULL when left out;
 * parent is the setting to report at then) must have a secret. */
void arb_conf_require_secret(struct arb_conf_ctx *ctx, const char *path,
                             const config_setting_t *group, const config_setting_t *parent,
                             const struct arb_signature_conf *sig);

/* String checks. */
int arb_conf_check_not_empty(const char *value, struct arb_error *err);
int arb_conf_check_listen(const char *value, struct arb_error *err);
int arb_conf_check_listen_or_empty(const char *value, struct arb_error *err);
int arb_conf_check_http_path(const char *value, struct arb_error *err);
int arb_conf_check_url(const char *value, struct arb_error *err);
int arb_conf_check_plain_topic(const char *value, struct arb_error *err);
int arb_conf_check_topic_or_empty(const char *value, struct arb_error *err);

/* An enum's value from its name, names[i] naming value i (any case). */
int arb_conf_parse_name(const char *name, const char *const *names, int count, int *value);

/* Two strings that must be set together (either NULL: not loaded, nothing reported). */
void arb_conf_check_together(struct arb_conf_ctx *ctx, const config_setting_t *group,
                             const char *base, const char *a_name, const char *a,
                             const char *b_name, const char *b);

#endif

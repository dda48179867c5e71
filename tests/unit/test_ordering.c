/* test_ordering.c - the replay's bookkeeping: scenarios with exact expectations (which entry
 * next returns, which offset done makes committable, counts, drops), and a randomized check
 * against a naive reference model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arb/ordering.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- scenarios: a script of operations on named entries ---- */

enum op_kind { ADD, NEXT, DONE, DROP, PENDING, TOTAL, END };

struct op {
    enum op_kind kind;
    const char *name; /* ADD, DONE: the entry; NEXT: the one expected (NULL: none) */
    int part;         /* ADD, DROP, PENDING */
    int64_t offset;   /* ADD */
    const char *key;  /* ADD */
    int64_t expect;   /* DONE: committable offset or -1; DROP: data freed; PENDING, TOTAL */
};

#define OP_ADD(n, p, o, k) {ADD, n, p, o, k, 0}
#define OP_NEXT(n) {NEXT, n, 0, 0, NULL, 0}
#define OP_DONE(n, c) {DONE, n, 0, 0, NULL, c}
#define OP_DROP(p, freed) {DROP, NULL, p, 0, NULL, freed}
#define OP_PENDING(p, c) {PENDING, NULL, p, 0, NULL, c}
#define OP_TOTAL(c) {TOTAL, NULL, 0, 0, NULL, c}
#define OP_END {END, NULL, 0, 0, NULL, 0}

struct scenario {
    const char *name;
    struct op ops[48];
    size_t freed_by_destroy;
};

static const struct scenario scenarios[] = {
    {"interleaved conversations in one partition",
     {OP_ADD("A1", 0, 0, "A"), OP_ADD("B1", 0, 1, "B"), OP_ADD("A2", 0, 2, "A"),
      OP_ADD("B2", 0, 3, "B"), OP_ADD("A3", 0, 4, "A"), OP_PENDING(0, 5), OP_TOTAL(5),
      OP_NEXT("A1"), OP_NEXT("B1"), OP_NEXT(NULL),
      OP_DONE("A1", 1), OP_NEXT("A2"), OP_NEXT(NULL),
      OP_DONE("B1", 2), OP_NEXT("B2"), OP_NEXT(NULL), OP_PENDING(0, 3),
      OP_DONE("A2", 3), OP_NEXT("A3"), OP_NEXT(NULL),
      OP_DONE("B2", 4), OP_DONE("A3", 5), OP_NEXT(NULL), OP_PENDING(0, 0), OP_TOTAL(0),
      OP_END},
     0},
    {"interleaved, finishing the later conversation first",
     {OP_ADD("A1", 0, 0, "A"), OP_ADD("B1", 0, 1, "B"), OP_ADD("A2", 0, 2, "A"),
      OP_ADD("B2", 0, 3, "B"), OP_ADD("A3", 0, 4, "A"),
      OP_NEXT("A1"), OP_NEXT("B1"), OP_DONE("B1", -1), OP_NEXT("B2"), OP_DONE("B2", -1),
      OP_NEXT(NULL), OP_DONE("A1", 2), OP_NEXT("A2"), OP_DONE("A2", 4), OP_NEXT("A3"),
      OP_DONE("A3", 5), OP_END},
     0},
    {"committable offsets when records finish out of order",
     {OP_ADD("r10", 0, 10, "a"), OP_ADD("r11", 0, 11, "b"), OP_ADD("r12", 0, 12, "c"),
      OP_ADD("r13", 0, 13, "d"), OP_ADD("r14", 0, 14, "e"),
      OP_NEXT("r10"), OP_NEXT("r11"), OP_NEXT("r12"), OP_NEXT("r13"), OP_NEXT("r14"),
      OP_DONE("r12", -1), OP_PENDING(0, 4), OP_DONE("r10", 11), OP_DONE("r11", 13),
      OP_DONE("r14", -1), OP_PENDING(0, 1), OP_DONE("r13", 15), OP_PENDING(0, 0), OP_END},
     0},
    {"offsets with gaps (compaction, transaction markers)",
     {OP_ADD("r5", 0, 5, "a"), OP_ADD("r9", 0, 9, "b"), OP_ADD("r20", 0, 20, "c"),
      OP_NEXT("r5"), OP_NEXT("r9"), OP_NEXT("r20"),
      OP_DONE("r9", -1), OP_DONE("r5", 20), OP_DONE("r20", 21),
      OP_ADD("r21", 0, 21, "a"), OP_NEXT("r21"), OP_DONE("r21", 22), OP_END},
     0},
    {"empty keys never block each other",
     {OP_ADD("e1", 0, 0, ""), OP_ADD("e2", 0, 1, ""), OP_ADD("K1", 0, 2, "K"),
      OP_ADD("e3", 0, 3, ""), OP_ADD("K2", 0, 4, "K"),
      OP_NEXT("e1"), OP_NEXT("e2"), OP_NEXT("K1"), OP_NEXT("e3"), OP_NEXT(NULL),
      OP_DONE("e3", -1), OP_DONE("e2", -1), OP_NEXT(NULL), OP_DONE("e1", 2),
      OP_DONE("K1", 4), OP_NEXT("K2"), OP_DONE("K2", 5), OP_TOTAL(0), OP_END},
     0},
    {"a key across two partitions",
     {OP_ADD("A0p0", 0, 0, "A"), OP_ADD("A0p1", 1, 0, "A"), OP_ADD("B1p1", 1, 1, "B"),
      OP_ADD("A1p0", 0, 1, "A"), OP_PENDING(0, 2), OP_PENDING(1, 2), OP_TOTAL(4),
      OP_NEXT("A0p0"), OP_NEXT("B1p1"), OP_NEXT(NULL),
      OP_DONE("A0p0", 1), OP_NEXT("A0p1"), OP_NEXT(NULL),
      OP_DONE("B1p1", -1), OP_DONE("A0p1", 2), OP_NEXT("A1p0"), OP_DONE("A1p0", 2),
      OP_PENDING(0, 0), OP_PENDING(1, 0), OP_TOTAL(0), OP_END},
     0},
    {"drop a partition mid-flight",
     {OP_ADD("A0", 0, 0, "A"), OP_ADD("A0q", 1, 0, "A"), OP_ADD("B1", 0, 1, "B"),
      OP_ADD("C1q", 1, 1, "C"), OP_ADD("A2", 0, 2, "A"), OP_ADD("e3", 0, 3, ""),
      OP_ADD("B4", 0, 4, "B"), OP_ADD("A2q", 1, 2, "A"),
      OP_NEXT("A0"), OP_NEXT("B1"), OP_NEXT("C1q"), OP_NEXT("e3"), OP_NEXT(NULL),
      OP_DONE("B1", -1), OP_NEXT("B4"), OP_TOTAL(7),
      /* A0, A2, e3, B4 are not done (B1 is): four data freed. A0q waited behind A0. */
      OP_DROP(0, 4), OP_PENDING(0, 0), OP_PENDING(1, 3), OP_TOTAL(3),
      OP_NEXT("A0q"), OP_NEXT(NULL),
      OP_DONE("C1q", -1), OP_DONE("A0q", 2), OP_NEXT("A2q"), OP_NEXT(NULL),
      /* the partition comes back (reassigned), from the last committed offset */
      OP_ADD("A0'", 0, 0, "A"), OP_ADD("D1'", 0, 1, "D"), OP_NEXT("D1'"), OP_NEXT(NULL),
      OP_DONE("A2q", 3), OP_NEXT("A0'"), OP_DONE("D1'", -1), OP_DONE("A0'", 2),
      OP_TOTAL(0), OP_END},
     0},
    {"drop: the conversation runs on in the same partition, then another",
     {OP_ADD("A0", 0, 0, "A"), OP_ADD("A1", 0, 1, "A"), OP_ADD("A0q", 1, 0, "A"),
      OP_ADD("A2", 0, 2, "A"), OP_ADD("A1q", 1, 1, "A"),
      OP_NEXT("A0"), OP_NEXT(NULL), OP_DROP(0, 3), OP_NEXT("A0q"), OP_NEXT(NULL),
      OP_DONE("A0q", 1), OP_NEXT("A1q"), OP_DONE("A1q", 2), OP_TOTAL(0), OP_END},
     0},
    {"drop: eligible entries of the partition are withdrawn, others keep their order",
     {OP_ADD("x", 0, 0, "X"), OP_ADD("y", 1, 0, "Y"), OP_ADD("z", 0, 1, "Z"),
      OP_ADD("w", 1, 1, ""), OP_DROP(0, 2), OP_NEXT("y"), OP_NEXT("w"), OP_NEXT(NULL),
      OP_DROP(0, 0), OP_DROP(7, 0), OP_DONE("w", -1), OP_DONE("y", 2), OP_END},
     0},
    {"drop when the waiting successor is already the other partition's",
     {OP_ADD("A0", 0, 0, "A"), OP_ADD("A0q", 1, 0, "A"), OP_ADD("A1", 0, 1, "A"),
      OP_NEXT("A0"), OP_DONE("A0", 1), OP_NEXT("A0q"), OP_DROP(1, 1), OP_NEXT("A1"),
      OP_DONE("A1", 2), OP_TOTAL(0), OP_END},
     0},
    {"destroy frees the data of entries not done, only",
     {OP_ADD("a", 0, 0, "k"), OP_ADD("b", 0, 1, "k"), OP_ADD("c", 3, 0, ""),
      OP_ADD("d", 3, 1, "m"), OP_NEXT("a"), OP_NEXT("c"), OP_NEXT("d"), OP_DONE("c", 1),
      OP_PENDING(3, 1), OP_PENDING(2, 0), OP_PENDING(100, 0), OP_TOTAL(3), OP_END},
     3},
    {"sparse partition numbers",
     {OP_ADD("p9", 9, 100, "k"), OP_ADD("p2", 2, 7, "k"), OP_PENDING(9, 1),
      OP_PENDING(2, 1), OP_PENDING(5, 0), OP_NEXT("p9"), OP_NEXT(NULL), OP_DONE("p9", 101),
      OP_NEXT("p2"), OP_DONE("p2", 8), OP_END},
     0},
};

struct run {
    const char *names[48];
    struct arb_entry *entries[48];
    size_t count;
    size_t freed;
};

static struct run *current_run; /* test-only: free_data has no context argument */

static void count_free(void *data)
{
    assert_non_null(data);
    current_run->freed++;
}

static struct arb_entry *entry_named(struct run *run, const char *name)
{
    for (size_t i = 0; i < run->count; i++)
        if (strcmp(run->names[i], name) == 0)
            return run->entries[i];
    fail_msg("no entry %s", name);
    return NULL;
}

static void run_op(struct arb_ordering *ordering, struct run *run, const struct op *op)
{
    struct arb_entry *entry;
    size_t freed = run->freed;
    switch (op->kind) {
    case ADD:
        entry = arb_ordering_add(ordering, op->part, op->offset, op->key, (void *)op->name);
        assert_non_null(entry);
        assert_int_equal(arb_entry_part(entry), op->part);
        assert_int_equal(arb_entry_offset(entry), op->offset);
        run->names[run->count] = op->name;
        run->entries[run->count++] = entry;
        break;
    case NEXT:
        entry = arb_ordering_next(ordering);
        if (op->name == NULL)
            assert_null(entry);
        else
            assert_string_equal(entry ? (const char *)arb_entry_data(entry) : "(null)",
                                op->name);
        break;
    case DONE:
        assert_int_equal(arb_ordering_done(ordering, entry_named(run, op->name)), op->expect);
        break;
    case DROP:
        arb_ordering_drop_partition(ordering, op->part, count_free);
        assert_int_equal(run->freed - freed, op->expect);
        break;
    case PENDING:
        assert_int_equal(arb_ordering_pending(ordering, op->part), op->expect);
        break;
    case TOTAL:
        assert_int_equal(arb_ordering_total(ordering), op->expect);
        break;
    case END:
        break;
    }
}

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(scenarios); i++) {
        struct run run = {{NULL}, {NULL}, 0, 0};
        struct arb_ordering *ordering = arb_ordering_new();
        printf("# %s\n", scenarios[i].name);
        current_run = &run;
        for (const struct op *op = scenarios[i].ops; op->kind != END; op++)
            run_op(ordering, &run, op);
        run.freed = 0;
        arb_ordering_destroy(ordering, count_free);
        assert_int_equal(run.freed, scenarios[i].freed_by_destroy);
        current_run = NULL;
    }
}

static void test_destroy_null_and_empty(void **state)
{
    (void)state;
    arb_ordering_destroy(NULL, NULL);
    arb_ordering_destroy(arb_ordering_new(), NULL);
    struct arb_ordering *ordering = arb_ordering_new();
    arb_ordering_add(ordering, 0, 0, "k", NULL);
    arb_ordering_add(ordering, 4, 0, "", NULL);
    arb_ordering_destroy(ordering, NULL); /* no free_data: nothing to call */
}

/* Many conversations and a long backlog: the map and the rings grow. */
static void test_growth(void **state)
{
    enum { N = 20000, KEYS = 5000 };
    struct arb_ordering *ordering = arb_ordering_new();
    struct arb_entry **sent = malloc(N * sizeof(*sent));
    char key[32];
    (void)state;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "conversation-%d", i % KEYS);
        arb_ordering_add(ordering, i % 3, i / 3, key, NULL);
    }
    assert_int_equal(arb_ordering_total(ordering), N);
    int64_t committed[3] = {-1, -1, -1};
    for (int round = 0; round < N / KEYS; round++) {
        size_t n = 0;
        struct arb_entry *entry;
        while ((entry = arb_ordering_next(ordering)) != NULL) {
            /* round r offers exactly the r-th record of every conversation, in add order */
            int i = round * KEYS + (int)n;
            assert_int_equal(arb_entry_part(entry), i % 3);
            assert_int_equal(arb_entry_offset(entry), i / 3);
            sent[n++] = entry;
        }
        assert_int_equal(n, KEYS);
        for (size_t j = 0; j < n; j++) {
            int part = arb_entry_part(sent[j]);
            int64_t c = arb_ordering_done(ordering, sent[j]);
            if (c != -1) {
                assert_true(c > committed[part]);
                committed[part] = c;
            }
        }
    }
    assert_int_equal(arb_ordering_total(ordering), 0);
    for (int part = 0; part < 3; part++) {
        int last = N - 1 - (N - 1 - part) % 3; /* the partition's last record */
        assert_int_equal(committed[part], last / 3 + 1);
    }
    free(sent);
    arb_ordering_destroy(ordering, NULL);
}

/* Done on an entry next never returned is a caller bug: assert aborts (unless NDEBUG). */
static void test_done_before_next_aborts(void **state)
{
    (void)state;
#ifdef NDEBUG
    skip();
#else
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct arb_ordering *ordering = arb_ordering_new();
        struct arb_entry *entry = arb_ordering_add(ordering, 0, 0, "k", NULL);
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(3);
        arb_ordering_done(ordering, entry);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
#endif
}

/* ---- randomized: the real thing against a naive model ---- */

enum { MAX_RECORDS = 12000, PARTS = 4, KEYS = 9 };

enum rec_state { QUEUED, OUTSTANDING, FINISHED, DROPPED };

struct rec {
    int part;
    int64_t offset;
    int key; /* 0 = "" */
    enum rec_state state;
    struct arb_entry *entry;
};

struct model {
    struct rec recs[MAX_RECORDS];
    size_t nrecs;
    int64_t last_offset[PARTS];
    size_t outstanding[MAX_RECORDS]; /* indexes of OUTSTANDING records */
    size_t noutstanding;
    size_t freed;
    uint64_t rng;
};

static struct model *current_model; /* test-only: free_data has no context argument */

static uint64_t rnd(struct model *m, uint64_t bound) /* splitmix64 */
{
    uint64_t z = (m->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (z ^ (z >> 31)) % bound;
}

static const char *key_name(int key)
{
    static const char *const names[KEYS] = {"", "k1", "k2", "k3", "k4",
                                            "k5", "k6", "k7", "conversation-8"};
    return names[key];
}

static void model_free(void *data)
{
    struct rec *rec = data;
    assert_true(rec->state == QUEUED || rec->state == OUTSTANDING);
    current_model->freed++;
}

/* The committable offset of a partition: its oldest record not finished (or one past the
 * last when all are), -1 when it never had one. */
static int64_t model_committable(const struct model *m, int part)
{
    for (size_t i = 0; i < m->nrecs; i++) {
        const struct rec *rec = &m->recs[i];
        if (rec->part == part && (rec->state == QUEUED || rec->state == OUTSTANDING))
            return rec->offset;
    }
    return m->last_offset[part] < 0 ? -1 : m->last_offset[part] + 1;
}

/* A record may go when no earlier record of its key is queued or outstanding. */
static int model_eligible(const struct model *m, size_t index)
{
    const struct rec *rec = &m->recs[index];
    if (rec->state != QUEUED)
        return 0;
    if (rec->key == 0)
        return 1;
    for (size_t i = 0; i < index; i++) {
        const struct rec *earlier = &m->recs[i];
        if (earlier->key == rec->key &&
            (earlier->state == QUEUED || earlier->state == OUTSTANDING))
            return 0;
    }
    return 1;
}

/* Whether any record may go: per key, the earliest record queued or outstanding. */
static int model_any_eligible(const struct model *m)
{
    int seen[KEYS] = {0};
    for (size_t i = 0; i < m->nrecs; i++) {
        const struct rec *rec = &m->recs[i];
        if (rec->state != QUEUED && rec->state != OUTSTANDING)
            continue;
        if (rec->state == QUEUED && (rec->key == 0 || !seen[rec->key]))
            return 1;
        seen[rec->key] = 1;
    }
    return 0;
}

static size_t model_pending(const struct model *m, int part)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nrecs; i++)
        if (m->recs[i].part == part &&
            (m->recs[i].state == QUEUED || m->recs[i].state == OUTSTANDING))
            n++;
    return n;
}

static void step_add(struct model *m, struct arb_ordering *ordering)
{
    if (m->nrecs == MAX_RECORDS)
        return;
    struct rec *rec = &m->recs[m->nrecs++];
    rec->part = (int)rnd(m, PARTS);
    rec->offset = m->last_offset[rec->part] + 1 + (int64_t)rnd(m, 3);
    rec->key = (int)rnd(m, KEYS);
    rec->state = QUEUED;
    rec->entry = arb_ordering_add(ordering, rec->part, rec->offset, key_name(rec->key), rec);
    m->last_offset[rec->part] = rec->offset;
}

static void step_next(struct model *m, struct arb_ordering *ordering)
{
    struct arb_entry *entry = arb_ordering_next(ordering);
    if (entry == NULL) {
        assert_false(model_any_eligible(m)); /* nothing held back that could go */
        return;
    }
    struct rec *rec = arb_entry_data(entry);
    size_t index = (size_t)(rec - m->recs);
    assert_ptr_equal(rec->entry, entry);
    /* (a) and (b): nothing earlier of this key is outstanding or still queued */
    assert_true(model_eligible(m, index));
    rec->state = OUTSTANDING;
    m->outstanding[m->noutstanding++] = index;
}

static void step_done(struct model *m, struct arb_ordering *ordering)
{
    if (m->noutstanding == 0)
        return;
    size_t pick = (size_t)rnd(m, m->noutstanding);
    struct rec *rec = &m->recs[m->outstanding[pick]];
    m->outstanding[pick] = m->outstanding[--m->noutstanding];
    int64_t before = model_committable(m, rec->part);
    rec->state = FINISHED;
    int64_t after = model_committable(m, rec->part);
    /* (c) */
    assert_int_equal(arb_ordering_done(ordering, rec->entry), after != before ? after : -1);
}

static void step_drop(struct model *m, struct arb_ordering *ordering)
{
    int part = (int)rnd(m, PARTS);
    size_t expect = model_pending(m, part);
    m->freed = 0;
    arb_ordering_drop_partition(ordering, part, model_free);
    assert_int_equal(m->freed, expect);
    for (size_t i = 0; i < m->nrecs; i++) {
        struct rec *rec = &m->recs[i];
        if (rec->part == part && (rec->state == QUEUED || rec->state == OUTSTANDING))
            rec->state = DROPPED;
        if (rec->part == part)
            rec->part = -1; /* the partition's next life is unrelated */
    }
    for (size_t i = 0; i < m->noutstanding;)
        if (m->recs[m->outstanding[i]].state == DROPPED)
            m->outstanding[i] = m->outstanding[--m->noutstanding];
        else
            i++;
    /* reassigned from some earlier offset */
    m->last_offset[part] = m->last_offset[part] < 0 ? -1 : (int64_t)rnd(m, 50) - 1;
}

static void check_counts(const struct model *m, const struct arb_ordering *ordering)
{
    size_t total = 0;
    for (int part = 0; part < PARTS; part++) {
        size_t pending = model_pending(m, part);
        assert_int_equal(arb_ordering_pending(ordering, part), pending);
        total += pending;
    }
    assert_int_equal(arb_ordering_total(ordering), total);
}

static void drain(struct model *m, struct arb_ordering *ordering)
{
    while (arb_ordering_total(ordering) > 0) {
        size_t before = m->noutstanding;
        step_next(m, ordering);
        if (m->noutstanding == before) {
            assert_true(m->noutstanding > 0); /* nothing eligible, nothing out: stuck */
            step_done(m, ordering);
        }
    }
    while (m->noutstanding > 0)
        step_done(m, ordering);
    /* (d): everything not dropped came out and finished */
    for (size_t i = 0; i < m->nrecs; i++)
        assert_true(m->recs[i].state == FINISHED || m->recs[i].state == DROPPED);
    assert_null(arb_ordering_next(ordering));
}

static void run_random(uint64_t seed, int steps, int drop_per_mille)
{
    struct model *m = calloc(1, sizeof(*m));
    struct arb_ordering *ordering = arb_ordering_new();
    assert_non_null(m);
    printf("# seed %llu, %d steps\n", (unsigned long long)seed, steps);
    m->rng = seed;
    for (int part = 0; part < PARTS; part++)
        m->last_offset[part] = -1;
    current_model = m;
    for (int i = 0; i < steps; i++) {
        uint64_t dice = rnd(m, 1000);
        if (dice < (uint64_t)drop_per_mille)
            step_drop(m, ordering);
        else if (dice < 400)
            step_add(m, ordering);
        else if (dice < 700)
            step_next(m, ordering);
        else
            step_done(m, ordering);
        if (i % 16 == 0)
            check_counts(m, ordering);
    }
    drain(m, ordering);
    check_counts(m, ordering);
    arb_ordering_destroy(ordering, model_free);
    current_model = NULL;
    free(m);
}

static void test_random(void **state)
{
    static const uint64_t seeds[] = {1, 2, 42, 20240601, 0xDEADBEEF};
    (void)state;
    for (size_t i = 0; i < COUNT(seeds); i++)
        run_random(seeds[i], 10000, 0);
    for (size_t i = 0; i < COUNT(seeds); i++)
        run_random(seeds[i] * 7919, 10000, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_destroy_null_and_empty),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_done_before_next_aborts),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

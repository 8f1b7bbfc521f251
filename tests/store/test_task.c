/* proto/mf_task.h: a task's key (what changes it and what does not) and
 * its wire form (packed and unpacked, inlined inputs, malformed messages
 * rejected). */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mf_fs.h"
#include "mf_hash.h"
#include "mf_store.h"
#include "test_store_dir.h"
#include "mf_task.h"
#include "mixfarm.pb-c.h"

#include "store_case.h"

/* ---- tasks --------------------------------------------------------------------------- */

static void make_task(mf_task_t *t, size_t n_inputs)
{
    memset(t, 0, sizeof *t);
    t->id = 0x1234567890ULL;
    t->kind = strdup("strip");
    t->params = strdup("{\"gain_db\":-3.5,\"pan\":0.25,\"name\":\"Kick \\u00e9\"}");
    t->inputs = calloc(n_inputs + 1, sizeof *t->inputs);
    assert_non_null(t->kind);
    assert_non_null(t->params);
    assert_non_null(t->inputs);
    t->n_inputs = n_inputs;
    for (size_t i = 0; i < n_inputs; i++) {
        char b[32];
        snprintf(b, sizeof b, "input %zu", i);
        mf_hash_bytes(b, strlen(b), &t->inputs[i]);
    }
}

static void test_task_key(void **state)
{
    (void)state;
    mf_task_t a, b;
    make_task(&a, 3);
    make_task(&b, 3);
    mf_hash_t ka, kb;
    mf_task_key(&a, &ka);
    mf_task_key(&b, &kb);
    assert_true(mf_hash_valid(ka.hex));
    assert_string_equal(ka.hex, kb.hex);
    /* The id is not part of the work. */
    b.id = 7;
    mf_task_key(&b, &kb);
    assert_string_equal(ka.hex, kb.hex);
    /* Kind, params, each input and the input order are. */
    free(b.kind);
    b.kind = strdup("bus");
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    make_task(&b, 3);
    b.params[strlen(b.params) - 2] = 'f';
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    make_task(&b, 3);
    mf_hash_t tmp = b.inputs[0];
    b.inputs[0] = b.inputs[1];
    b.inputs[1] = tmp;
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    make_task(&b, 2);
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_task_fini(&b);
    /* So is the arithmetic it is computed with; none is "". */
    make_task(&b, 3);
    b.numerics = strdup("");
    mf_task_key(&b, &kb);
    assert_string_equal(ka.hex, kb.hex);
    free(b.numerics);
    b.numerics = strdup("dsp=x86 qc=x86");
    mf_task_key(&b, &kb);
    assert_string_not_equal(ka.hex, kb.hex);
    mf_hash_t kc;
    free(b.numerics);
    b.numerics = strdup("dsp=neon qc=c");
    mf_task_key(&b, &kc);
    assert_string_not_equal(kb.hex, kc.hex);
    assert_string_not_equal(ka.hex, kc.hex);
    mf_task_fini(&a);
    mf_task_fini(&b);
}

static void test_task_pack_round_trip(void **state)
{
    (void)state;
    for (size_t n_in = 0; n_in <= 5; n_in += 5) {
        mf_task_t t, u;
        make_task(&t, n_in);
        if (n_in) t.numerics = strdup("dsp=x86 qc=x86"); /* and without */
        size_t len = 0;
        uint8_t *buf = mf_task_pack(&t, &len);
        assert_non_null(buf);
        assert_true(len > 0);
        assert_int_equal(mf_task_unpack(buf, len, &u), MF_OK);
        assert_int_equal(u.id, t.id);
        assert_string_equal(u.kind, t.kind);
        assert_string_equal(u.params, t.params);
        assert_int_equal(u.n_inputs, t.n_inputs);
        for (size_t i = 0; i < n_in; i++) assert_string_equal(u.inputs[i].hex, t.inputs[i].hex);
        if (n_in)
            assert_string_equal(u.numerics, t.numerics);
        else
            assert_null(u.numerics);
        mf_hash_t k1, k2;
        mf_task_key(&t, &k1);
        mf_task_key(&u, &k2);
        assert_string_equal(k1.hex, k2.hex);
        free(buf);
        mf_task_fini(&t);
        mf_task_fini(&u);
        assert_null(u.kind);
    }

    /* Results too, with and without an error. */
    mf_task_result_t r = {.id = 99, .seconds = 1.5, .audio_seconds = 12.25}, q;
    r.n_outputs = 2;
    r.outputs = calloc(2, sizeof *r.outputs);
    assert_non_null(r.outputs);
    mf_hash_bytes("o1", 2, &r.outputs[0]);
    mf_hash_bytes("o2", 2, &r.outputs[1]);
    size_t len;
    uint8_t *buf = mf_task_result_pack(&r, &len);
    assert_non_null(buf);
    assert_int_equal(mf_task_result_unpack(buf, len, &q), MF_OK);
    assert_int_equal(q.id, 99);
    assert_int_equal(q.n_outputs, 2);
    assert_string_equal(q.outputs[1].hex, r.outputs[1].hex);
    assert_true(q.seconds == 1.5 && q.audio_seconds == 12.25);
    assert_null(q.error);
    free(buf);
    mf_task_result_fini(&q);
    r.error = strdup("strip Kick: input 0: data is corrupt");
    buf = mf_task_result_pack(&r, &len);
    assert_int_equal(mf_task_result_unpack(buf, len, &q), MF_OK);
    assert_non_null(q.error);
    assert_string_equal(q.error, r.error);
    assert_false(q.input_fault);
    free(buf);
    mf_task_result_fini(&q);
    r.input_fault = 1; /* the file's fault: crosses the wire */
    buf = mf_task_result_pack(&r, &len);
    assert_int_equal(mf_task_result_unpack(buf, len, &q), MF_OK);
    assert_true(q.input_fault);
    free(buf);
    mf_task_result_fini(&q);
    mf_task_result_fini(&r);
}

/* Packs a Task message built by hand (to forge what mf_task_pack never would). */
static uint8_t *pack_raw(Mixfarm__Task *m, size_t *len)
{
    uint8_t *buf = malloc(mixfarm__task__get_packed_size(m) + 1);
    assert_non_null(buf);
    *len = mixfarm__task__pack(m, buf);
    return buf;
}

static void expect_protocol(const uint8_t *buf, size_t len)
{
    mf_task_t u;
    assert_int_equal(mf_task_unpack(buf, len, &u), MF_ERR_PROTOCOL);
    assert_null(u.kind);
    assert_null(u.inputs);
}

/* A bus with two of its strips inlined (mf_task_t.inlined): the strips
 * travel with their keys, each producing one of the bus's inputs; the
 * bus's key ignores them (the same work, run in one task). */
static void s_inlined_bus(mf_task_t *bus)
{
    make_task(bus, 3);
    free(bus->kind);
    bus->kind = strdup("bus");
    bus->inlined = calloc(2, sizeof *bus->inlined);
    assert_non_null(bus->inlined);
    bus->n_inlined = 2;
    for (size_t j = 0; j < 2; j++) {
        mf_task_t *x = &bus->inlined[j];
        make_task(x, 1 + j);
        x->id = 0;
        mf_task_key(x, &x->key);
        mf_task_output_name(&x->key, 0, &bus->inputs[2 * j]); /* inputs 0 and 2 */
    }
}

static void test_task_inlined(void **state)
{
    (void)state;
    mf_task_t bus, u;
    s_inlined_bus(&bus);
    mf_hash_t alone, with;
    mf_task_key(&bus, &with);
    mf_task_t copy = bus;
    copy.inlined = NULL, copy.n_inlined = 0;
    mf_task_key(&copy, &alone);
    assert_string_equal(with.hex, alone.hex);
    size_t len;
    uint8_t *buf = mf_task_pack(&bus, &len);
    assert_non_null(buf);
    assert_int_equal(mf_task_unpack(buf, len, &u), MF_OK);
    free(buf);
    assert_int_equal(u.n_inlined, 2);
    for (size_t j = 0; j < 2; j++) {
        assert_string_equal(u.inlined[j].kind, "strip");
        assert_string_equal(u.inlined[j].key.hex, bus.inlined[j].key.hex);
        assert_int_equal(u.inlined[j].n_inputs, 1 + j);
        assert_int_equal(u.inlined[j].n_inlined, 0);
    }
    assert_int_equal(mf_task_inlined_for(&u, 0), 0);
    assert_int_equal(mf_task_inlined_for(&u, 1), -1); /* a blob to read */
    assert_int_equal(mf_task_inlined_for(&u, 2), 1);
    mf_task_fini(&u);
    assert_null(u.inlined);

    /* Forged: an inlined task producing none of the inputs, one with a key
     * that is not its own, one with tasks of its own. */
    Mixfarm__Task m;
    mf_hash_t key;
    assert_int_equal(mf_task_to_pb(&bus, &m, &key), 0);
    char *keep = m.inputs[2];
    m.inputs[2] = bus.inputs[1].hex;
    uint8_t *raw = pack_raw(&m, &len);
    m.inputs[2] = keep;
    mf_task_t other;
    assert_int_equal(mf_task_unpack(raw, len, &other), MF_ERR_PROTOCOL);
    free(raw);
    char *key1 = m.inlined[1]->key;
    m.inlined[1]->key = m.inlined[0]->key;
    raw = pack_raw(&m, &len);
    m.inlined[1]->key = key1;
    assert_int_equal(mf_task_unpack(raw, len, &other), MF_ERR_PROTOCOL);
    free(raw);
    /* Field 9 nested in itself 200,000 times (781 KB, under a frame's
     * limit): when an inlined task was a Task, protobuf-c's recursive
     * unpack overflowed the stack on it; now the depth ends at one. */
    const size_t depth = 200000, cap = depth * 4 + 16;
    uint8_t *deep = malloc(cap);
    assert_non_null(deep);
    size_t at = cap; /* built from the innermost out, backwards */
    for (size_t i = 0; i < depth; i++) {
        uint8_t head[8];
        size_t h = 0, v = cap - at;
        head[h++] = 0x4a; /* field 9, length-delimited */
        do {
            head[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v);
        at -= h;
        memcpy(deep + at, head, h);
    }
    const size_t dl = cap - at;
    memmove(deep, deep + at, dl);
    assert_int_equal(mf_task_unpack(deep, dl, &other), MF_ERR_PROTOCOL);
    free(deep);
    raw = pack_raw(&m, &len); /* the control case */
    assert_int_equal(mf_task_unpack(raw, len, &other), MF_OK);
    mf_task_fini(&other);
    free(raw);
    mf_task_pb_fini(&m);
    /* An inlined task goes out with its key, or not at all. */
    bus.inlined[1].key.hex[0] = 0;
    assert_int_equal(mf_task_to_pb(&bus, &m, &key), -1);
    mf_task_fini(&bus);
}

static void test_task_unpack_rejects(void **state)
{
    (void)state;
    mf_task_t t;
    make_task(&t, 3);
    mf_hash_t key;
    mf_task_key(&t, &key);
    size_t len;
    uint8_t *buf = mf_task_pack(&t, &len);
    assert_non_null(buf);

    /* The key travels as hex: change one digit of it. */
    uint8_t *at = memmem(buf, len, key.hex, 64);
    assert_non_null(at);
    uint8_t *bad = malloc(len);
    memcpy(bad, buf, len);
    bad[at - buf + 10] = bad[at - buf + 10] == 'a' ? 'b' : 'a';
    expect_protocol(bad, len);
    /* Change a byte of the params instead: the key no longer matches. */
    memcpy(bad, buf, len);
    uint8_t *pp = memmem(bad, len, "gain_db", 7);
    assert_non_null(pp);
    pp[0] = 'G';
    expect_protocol(bad, len);
    /* Or an input hash. */
    memcpy(bad, buf, len);
    uint8_t *ip = memmem(bad, len, t.inputs[1].hex, 64);
    assert_non_null(ip);
    ip[5] = ip[5] == '0' ? '1' : '0';
    expect_protocol(bad, len);
    /* Truncated anywhere up to the end of the key (only the id follows it,
     * and an id of 0 is a valid id). */
    size_t key_end = (size_t)(at - buf) + 64;
    for (size_t cut = 0; cut < key_end; cut++) expect_protocol(buf, cut);
    free(bad);

    /* Garbage. */
    uint8_t junk[512];
    for (uint32_t seed = 1; seed <= 200; seed++) {
        size_t n = 1 + seed * 7 % sizeof junk;
        fill(junk, n, seed);
        expect_protocol(junk, n);
    }

    /* Well-formed protobuf that breaks the rules: wrong version, empty kind,
     * an input that is not a hash, too many inputs. */
    char *hexes[3] = {t.inputs[0].hex, t.inputs[1].hex, t.inputs[2].hex};
    Mixfarm__Task m = MIXFARM__TASK__INIT;
    m.version = MF_PROTOCOL_VERSION;
    m.kind = t.kind;
    m.params = t.params;
    m.key = key.hex;
    m.n_inputs = 3;
    m.inputs = hexes;
    size_t rl;
    uint8_t *raw = pack_raw(&m, &rl);
    mf_task_t u;
    assert_int_equal(mf_task_unpack(raw, rl, &u), MF_OK); /* the control case */
    mf_task_fini(&u);
    free(raw);

    m.version = MF_PROTOCOL_VERSION + 1;
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    m.version = MF_PROTOCOL_VERSION;

    m.kind = "";
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    m.kind = t.kind;

    char upper[65];
    memcpy(upper, t.inputs[2].hex, 65);
    for (int i = 0; i < 64; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = (char)(upper[i] - 'a' + 'A');
    hexes[2] = upper;
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    hexes[2] = "0123";
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);

    size_t many = MF_TASK_MAX_INPUTS + 1;
    char **lots = calloc(many, sizeof *lots);
    assert_non_null(lots);
    for (size_t i = 0; i < many; i++) lots[i] = t.inputs[0].hex;
    m.inputs = lots;
    m.n_inputs = many;
    raw = pack_raw(&m, &rl);
    expect_protocol(raw, rl);
    free(raw);
    free(lots);

    /* A result with a bad output hash or version. */
    Mixfarm__TaskResult rm = MIXFARM__TASK_RESULT__INIT;
    char *outs[1] = {"xyz"};
    rm.version = MF_PROTOCOL_VERSION;
    rm.n_outputs = 1;
    rm.outputs = outs;
    uint8_t rb[256];
    size_t rlen = mixfarm__task_result__pack(&rm, rb);
    mf_task_result_t q;
    assert_int_equal(mf_task_result_unpack(rb, rlen, &q), MF_ERR_PROTOCOL);
    outs[0] = t.inputs[0].hex;
    rm.version = 9;
    rlen = mixfarm__task_result__pack(&rm, rb);
    assert_int_equal(mf_task_result_unpack(rb, rlen, &q), MF_ERR_PROTOCOL);
    for (uint32_t seed = 1; seed <= 100; seed++) {
        size_t n = 1 + seed * 5 % 200;
        fill(junk, n, seed + 1000);
        assert_int_equal(mf_task_result_unpack(junk, n, &q), MF_ERR_PROTOCOL);
    }

    free(buf);
    mf_task_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_key),
        cmocka_unit_test(test_task_pack_round_trip),
        cmocka_unit_test(test_task_inlined),
        cmocka_unit_test(test_task_unpack_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

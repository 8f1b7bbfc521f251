#include "fake_coord.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

int64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *test_tmpdir(void)
{
    char tmpl[] = "/tmp/mf-farm-test-XXXXXX";
    if (!mkdtemp(tmpl)) abort();
    return strdup(tmpl);
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void test_rmdir(char **dir)
{
    if (!*dir) return;
    nftw(*dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(*dir);
    *dir = NULL;
}

void test_random_blob(mf_store_t *s, size_t n, unsigned seed, mf_hash_t *out)
{
    mf_blob_writer_t *w = mf_blob_writer_new(s);
    unsigned char buf[65536];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < sizeof buf ? n - done : sizeof buf;
        for (size_t i = 0; i < k; i++) buf[i] = (unsigned char)(rand_r(&seed) >> 7);
        mf_blob_writer_write(w, buf, k);
        done += k;
    }
    if (mf_blob_writer_commit(w, out) != MF_OK) abort();
}

void test_write_wav(const char *path, int rate, double seconds)
{
    SF_INFO info = {.samplerate = rate, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) abort();
    int frames = (int)(rate * seconds);
    float buf[2 * 512];
    for (int t = 0; t < frames;) {
        int k = frames - t < 512 ? frames - t : 512;
        for (int i = 0; i < k; i++) {
            buf[2 * i] = 0.5f * (float)sin(2 * M_PI * 440.0 * (t + i) / rate);
            buf[2 * i + 1] = 0.25f * (float)sin(2 * M_PI * 660.0 * (t + i) / rate);
        }
        sf_writef_float(sf, buf, k);
        t += k;
    }
    sf_close(sf);
}

void fake_open(fake_t *f, void *zctx, int hb_ms)
{
    memset(f, 0, sizeof *f);
    f->zctx = zctx;
    f->hb_ms = hb_ms;
    char *tmp = test_tmpdir();
    snprintf(f->dir, sizeof f->dir, "%s", tmp);
    free(tmp);
    char store[300];
    snprintf(store, sizeof store, "%s/store", f->dir);
    f->store = mf_store_open(store);
    f->router = zmq_socket(zctx, ZMQ_ROUTER);
    int zero = 0;
    int64_t max = MF_MSG_MAX;
    zmq_setsockopt(f->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(f->router, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (!f->store || zmq_bind(f->router, "tcp://127.0.0.1:*") != 0) abort();
    size_t n = sizeof f->endpoint;
    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, f->endpoint, &n);
}

void fake_close(fake_t *f)
{
    zmq_close(f->router);
    mf_store_free(&f->store);
    for (int i = 0; i < f->n_results; i++) mf_task_result_fini(&f->results[i]);
    for (int i = 0; i < f->held_n; i++) free(f->held[i]);
    for (int i = 0; i < FAKE_MAX; i++)
        if (f->up[i].w) mf_blob_writer_abort(f->up[i].w);
    if (f->hello) mixfarm__hello__free_unpacked(f->hello, NULL);
    char *dir = strdup(f->dir);
    test_rmdir(&dir);
}

void fake_send(fake_t *f, Mixfarm__Envelope *env)
{
    mf_msg_send(f->router, &f->peer, env);
    f->last_send = test_now_ms();
}

void fake_send_raw(fake_t *f, const void *data, size_t n)
{
    zmq_send(f->router, f->peer.id, f->peer.n, ZMQ_SNDMORE);
    zmq_send(f->router, data, n, 0);
    f->last_send = test_now_ms();
}

void fake_send_task(fake_t *f, const mf_task_t *t)
{
    Mixfarm__Task m;
    mf_hash_t key;
    mf_task_to_pb(t, &m, &key);
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_TASK;
    env.task = &m;
    fake_send(f, &env);
    mf_task_pb_fini(&m);
}

/* A blob reply: sent now, or queued while holding. */
static void s_reply(fake_t *f, Mixfarm__Envelope *env)
{
    if (f->silent) return;
    if (!f->hold || f->held_n == 64) {
        fake_send(f, env);
        return;
    }
    env->version = MF_PROTOCOL_VERSION;
    size_t len = mixfarm__envelope__get_packed_size(env);
    f->held[f->held_n] = malloc(len);
    mixfarm__envelope__pack(env, f->held[f->held_n]);
    f->held_len[f->held_n++] = len;
}

void fake_release(fake_t *f, int reversed)
{
    f->hold = 0;
    for (int k = 0; k < f->held_n; k++) {
        int i = reversed ? f->held_n - 1 - k : k;
        fake_send_raw(f, f->held[i], f->held_len[i]);
        free(f->held[i]);
    }
    f->held_n = 0;
}

static void s_on_get(fake_t *f, const Mixfarm__BlobGet *g)
{
    Mixfarm__BlobData d = MIXFARM__BLOB_DATA__INIT;
    d.hash = g->hash;
    d.offset = g->offset;
    mf_hash_t h;
    snprintf(h.hex, sizeof h.hex, "%s", g->hash);
    char *path = mf_hash_valid(g->hash) ? mf_store_path(f->store, &h) : NULL;
    FILE *fp = path ? fopen(path, "rb") : NULL;
    free(path);
    unsigned char *buf = NULL;
    if (!fp) {
        d.error = "no such blob";
    } else {
        fseek(fp, 0, SEEK_END);
        d.total_size = (uint64_t)ftell(fp);
        uint64_t len = g->length > MF_BLOB_CHUNK ? MF_BLOB_CHUNK : g->length;
        if (g->offset + len > d.total_size)
            len = g->offset < d.total_size ? d.total_size - g->offset : 0;
        buf = malloc(len + 1);
        fseek(fp, (long)g->offset, SEEK_SET);
        d.data.len = fread(buf, 1, len, fp);
        d.data.data = buf;
        d.checksum = mf_checksum(buf, d.data.len);
        /* Damage in transit: after the checksum. */
        if (f->corrupt && g->offset >= MF_BLOB_CHUNK && d.data.len) buf[0] ^= 0x5a;
        fclose(fp);
    }
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_DATA;
    env.blob_data = &d;
    s_reply(f, &env);
    free(buf);
}

static void s_on_put(fake_t *f, const Mixfarm__BlobPut *p)
{
    Mixfarm__BlobPutAck a = MIXFARM__BLOB_PUT_ACK__INIT;
    a.hash = p->hash;
    fake_upload_t *u = NULL, *free_u = NULL;
    for (int i = 0; i < FAKE_MAX; i++) {
        if (f->up[i].w && strcmp(f->up[i].hash, p->hash) == 0) u = &f->up[i];
        if (!f->up[i].w && !free_u) free_u = &f->up[i];
    }
    if (!u && p->offset == 0 && free_u) {
        u = free_u;
        snprintf(u->hash, sizeof u->hash, "%s", p->hash);
        /* A task's output: named after the task (the real coordinator also
         * checks that it gave this peer the task). */
        mf_hash_t key, name;
        snprintf(key.hex, sizeof key.hex, "%s", p->task_key);
        if (p->task_key[0]) mf_task_output_name(&key, p->output, &name);
        u->w = !p->task_key[0]              ? mf_blob_writer_new(f->store)
               : !strcmp(name.hex, p->hash) ? mf_blob_writer_new_named(f->store, &name)
                                            : NULL;
        u->received = 0;
        if (!u->w) u = NULL;
    }
    if (!u || p->offset != u->received) {
        a.error = "chunk out of order";
    } else if (mf_checksum(p->data.data, p->data.len) != p->checksum) {
        a.error = "a chunk arrived damaged (checksum)";
    } else {
        mf_blob_writer_write(u->w, p->data.data, p->data.len);
        u->received += p->data.len;
        a.received = u->received;
        if (p->last) {
            mf_hash_t got;
            mf_blob_writer_commit(u->w, &got);
            u->w = NULL;
            if (strcmp(got.hex, p->hash) == 0) {
                a.done = 1;
                f->uploads_done++;
            } else {
                a.error = "the blob does not match its hash";
            }
        }
    }
    if (a.error[0]) {
        f->upload_errors++;
        if (u && u->w) mf_blob_writer_abort(u->w);
        if (u) u->w = NULL;
    }
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_BLOB_PUT_ACK;
    env.blob_put_ack = &a;
    s_reply(f, &env);
}

static void s_handle(fake_t *f, Mixfarm__Envelope *env, const mf_peer_t *peer)
{
    f->peer = *peer;
    switch (env->body_case) {
    case MIXFARM__ENVELOPE__BODY_HELLO:
        if (f->hellos < FAKE_MAX) f->hello_peer[f->hellos] = *peer;
        f->hellos++;
        if (f->hello) mixfarm__hello__free_unpacked(f->hello, NULL);
        f->hello = env->hello; /* kept: taken out of the envelope */
        env->body_case = MIXFARM__ENVELOPE__BODY__NOT_SET;
        env->hello = NULL;
        break;
    case MIXFARM__ENVELOPE__BODY_HEARTBEAT:
        f->heartbeats++;
        break;
    case MIXFARM__ENVELOPE__BODY_RESULT:
        if (f->n_results < FAKE_MAX &&
            mf_task_result_from_pb(env->result, &f->results[f->n_results]) == MF_OK)
            f->n_results++;
        break;
    case MIXFARM__ENVELOPE__BODY_BLOB_GET:
        f->gets++;
        s_on_get(f, env->blob_get);
        break;
    case MIXFARM__ENVELOPE__BODY_BLOB_PUT:
        f->puts++;
        s_on_put(f, env->blob_put);
        break;
    default:
        break;
    }
}

void fake_poll(fake_t *f, int ms)
{
    int64_t until = test_now_ms() + ms;
    do {
        int64_t left = until - test_now_ms();
        zmq_pollitem_t it = {f->router, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, left > 0 ? (long)(left < 20 ? left : 20) : 0);
        for (;;) {
            Mixfarm__Envelope *env = NULL;
            mf_peer_t peer;
            mf_chunk_t chunk;
            mf_err_t err = mf_msg_recv(f->router, 1, ZMQ_DONTWAIT, &peer, &env, &chunk);
            if (err == MF_ERR_IO) break;
            if (err == MF_OK) s_handle(f, env, &peer);
            mf_msg_release(env, &chunk);
        }
        if (!f->silent && f->peer.n && test_now_ms() - f->last_send >= f->hb_ms) {
            Mixfarm__Heartbeat hb = MIXFARM__HEARTBEAT__INIT;
            Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
            env.body_case = MIXFARM__ENVELOPE__BODY_HEARTBEAT;
            env.heartbeat = &hb;
            fake_send(f, &env);
        }
    } while (test_now_ms() < until);
}

int fake_until(fake_t *f, int (*cond)(fake_t *), int ms)
{
    int64_t until = test_now_ms() + ms;
    while (!cond(f) && test_now_ms() < until) fake_poll(f, 10);
    return cond(f);
}

/* A fake coordinator for the farm tests: a ROUTER on tcp://127.0.0.1 with
 * its own blob store. It serves BlobGet from the store, takes BlobPut
 * uploads (verifying the hash like the real one), records what workers say
 * (Hello, Heartbeat, TaskResult) and heartbeats back when idle, all from
 * fake_poll() on the thread that drives it. Knobs let a test corrupt data,
 * hold replies back or fall silent. */
#ifndef FAKE_COORD_H
#define FAKE_COORD_H

#include <stdint.h>

#include "farm.pb-c.h"
#include "mf_msg.h"
#include "mf_store.h"
#include "mf_task.h"

#define FAKE_MAX 16

typedef struct {
    char hash[MF_HASH_HEX];
    mf_blob_writer_t *w;
    uint64_t received;
} fake_upload_t;

typedef struct {
    void *zctx, *router;
    mf_store_t *store;
    char dir[256];
    char endpoint[64];
    int hb_ms;
    mf_peer_t peer; /* the last peer heard from */
    int64_t last_send;
    /* what the peers said */
    int hellos;
    Mixfarm__Hello *hello; /* the last one */
    mf_peer_t hello_peer[FAKE_MAX];
    int heartbeats, gets, puts, uploads_done, upload_errors;
    mf_task_result_t results[FAKE_MAX];
    int n_results;
    /* knobs */
    int corrupt; /* flip a byte in every BlobData chunk at offset >= 1 MiB */
    int silent;  /* read everything, answer nothing, send no heartbeat */
    int hold;    /* keep blob replies queued until released */
    int held_n;  /* replies queued */
    void *held[64];
    size_t held_len[64];
    fake_upload_t up[FAKE_MAX];
} fake_t;

/* Opens a fresh store in a temporary folder and binds the ROUTER. */
void fake_open(fake_t *f, void *zctx, int hb_ms);
void fake_close(fake_t *f);
/* Handles messages for about ms milliseconds (0: what is there now). */
void fake_poll(fake_t *f, int ms);
/* Polls until cond(f) holds or ms pass; returns cond(f). */
int fake_until(fake_t *f, int (*cond)(fake_t *), int ms);
/* Sends to the last peer heard from. */
void fake_send(fake_t *f, Mixfarm__Envelope *env);
void fake_send_raw(fake_t *f, const void *data, size_t n);
void fake_send_task(fake_t *f, const mf_task_t *t);
/* Sends the held replies (last first when reversed) and stops holding. */
void fake_release(fake_t *f, int reversed);

/* Helpers: temporary folders, random blobs, a small WAV. */
char *test_tmpdir(void);
void test_rmdir(char **dir);
void test_random_blob(mf_store_t *s, size_t n, unsigned seed, mf_hash_t *out);
/* A stereo 16-bit WAV of seconds at rate, written to path. */
void test_write_wav(const char *path, int rate, double seconds);
int64_t test_now_ms(void);

#endif

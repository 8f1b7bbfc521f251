/* A task as mixfarm moves it around: the in-memory form shared by the
 * planner (coordinator/) and the executors (worker/), its action-cache key,
 * and its wire form (mixfarm.proto). */
#ifndef MF_TASK_H
#define MF_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "mf_error.h"
#include "mf_hash.h"

/* 2: derived output names, chunk checksums; 3: chunks in frames; 4: a task
 * names the arithmetic its job renders with (Task.numerics, in its key); 5:
 * a client submits before it uploads (Submit.sources_follow), which an
 * older coordinator would refuse as missing files. Not in task keys. */
#define MF_PROTOCOL_VERSION 5
/* Bumped whenever a change to the DSP changes output bits: part of every
 * action-cache key, so an upgraded farm never serves stale results. */
#define MF_ENGINE_VERSION "mixfarm-engine-14"

#define MF_TASK_MAX_INPUTS 4096
#define MF_TASK_MAX_OUTPUTS 256

typedef struct mf_task mf_task_t;
struct mf_task {
    uint64_t id;
    char *kind;   /* owned */
    char *params; /* owned canonical JSON */
    mf_hash_t *inputs;
    size_t n_inputs;
    mf_hash_t key;   /* mf_task_key, set by whoever makes the task (the scheduler,
                        mf_task_from_pb, which checks it); empty when not known */
    char *numerics;  /* owned, or NULL: the arithmetic the task's job renders with
                        (mf_exec_numerics, a worker's Hello.numerics); part of the key */
    uint32_t unread; /* bit i: no task of its job reads output i (not in the key) */
    /* Set by the worker, never sent: bit i, output i is a file the client
     * links into OUTDIR from this very store (an embedded farm's, without
     * --state) and no task reads: a task may write it around the page
     * cache (mf_blob_writer_new_direct). Its bytes are the same. */
    uint32_t as_file;
    /* Owned: tasks this one runs itself, each producing one of its inputs
     * (output 0 of a task with one output), never stored; each has its key
     * and no inlined tasks of its own. Not in the key: the same work, run
     * in one task rather than several (mf_sched_set_fuse). */
    mf_task_t *inlined;
    size_t n_inlined;
};

typedef struct {
    uint64_t id;
    mf_hash_t *outputs;
    size_t n_outputs;
    double seconds;
    double audio_seconds;
    char *error;     /* NULL on success */
    int input_fault; /* the error is the inputs' fault: no retry (TaskResult) */
    /* Worker side, never sent: where the task says how far it is, in
     * millionths of its work (mf_exec_progress); NULL when nobody asks. */
    _Atomic uint32_t *progress;
} mf_task_result_t;

void mf_task_fini(mf_task_t *t);
void mf_task_result_fini(mf_task_result_t *r);

/* SHA-256 of (engine version, numerics, kind, params, inputs): the same
 * work always has the same key, whoever planned it. The arithmetic is part
 * of the work: x86 SIMD, NEON and plain C kernels differ in their last bits
 * (docs/farm.md, Determinism), and outputs are named after the key. */
void mf_task_key(const mf_task_t *t, mf_hash_t *key);

/* The name of output index of the task with this key: a hash of the two,
 * not of the bytes. A task's signal outputs are named so (Nix's
 * input-addressed store): the same work always gives the same bits
 * (determinism is tested), so the name is as good as a content hash, and
 * the farm never hashes gigabytes of intermediate audio. Everything else is
 * named by the SHA-256 of its bytes: the sources a client uploads (and the
 * coordinator checks), and every file an output folder receives as it is
 * (reports, listening copies, deliverables), whose name manifest.json then
 * gives as the file's SHA-256 without reading it again. */
void mf_task_output_name(const mf_hash_t *key, size_t index, mf_hash_t *out);

/* Which inlined task produces input k (its output 0), or -1: the input is
 * a blob to read. */
int mf_task_inlined_for(const mf_task_t *t, size_t k);

/* Wire form. pack returns a malloc'd buffer (size in *len) or NULL.
 * unpack validates everything (version, hex hashes, counts) and returns
 * MF_ERR_PROTOCOL for anything malformed. */
uint8_t *mf_task_pack(const mf_task_t *t, size_t *len);
mf_err_t mf_task_unpack(const uint8_t *buf, size_t len, mf_task_t *out);
uint8_t *mf_task_result_pack(const mf_task_result_t *r, size_t *len);
mf_err_t mf_task_result_unpack(const uint8_t *buf, size_t len, mf_task_result_t *out);

/* The same as protobuf-c structs, for embedding in a farm envelope.
 * to_pb borrows t's strings (and its inlined tasks' keys, which must be
 * set) and allocates arrays that mf_task_pb_fini frees after packing; key
 * receives t's key (t->key, computed when empty) and must outlive m.
 * from_pb validates like unpack and keeps the checked keys. */
struct Mixfarm__Task;
struct Mixfarm__TaskResult;
int mf_task_to_pb(const mf_task_t *t, struct Mixfarm__Task *m, mf_hash_t *key);
mf_err_t mf_task_from_pb(const struct Mixfarm__Task *m, mf_task_t *out);
void mf_task_pb_fini(struct Mixfarm__Task *m);
int mf_task_result_to_pb(const mf_task_result_t *r, struct Mixfarm__TaskResult *m);
mf_err_t mf_task_result_from_pb(const struct Mixfarm__TaskResult *m, mf_task_result_t *out);

#endif

/* libFuzzer: the decode task on any bytes as a source file (libsndfile
 * opens whatever it recognises; the task must fail cleanly, never crash,
 * and never allocate what the header claims without the data to back it). */
#include "mf_exec.h"
#include "mf_fs.h"
#include "mf_params.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mf_store_t *s_store;
static char s_dir[64];

static void s_cleanup(void)
{
    mf_fs_remove_tree(s_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_store) {
        snprintf(s_dir, sizeof s_dir, "/tmp/mf-fuzz-decode-XXXXXX");
        if (!mkdtemp(s_dir) || !(s_store = mf_store_open(s_dir))) abort();
        atexit(s_cleanup);
    }
    mf_blob_writer_t *w = mf_blob_writer_new(s_store);
    mf_hash_t src;
    if (!w || mf_blob_writer_write(w, data, size) != MF_OK || mf_blob_writer_commit(w, &src))
        abort();
    /* The rate varies with the input so resampling is exercised too. */
    mf_decode_spec_t spec = {
        .from_s = 0, .length_s = 2.0, .start_s = 0, .rate = size % 2 ? 48000 : 44100};
    char *params = mf_decode_spec_to_json(&spec);
    mf_task_t t = {.kind = "decode", .params = params, .inputs = &src, .n_inputs = 1};
    mf_task_result_t r;
    mf_exec_run(s_store, &t, &r);
    for (size_t i = 0; i < r.n_outputs; i++) {
        char *p = mf_store_path(s_store, &r.outputs[i]);
        unlink(p);
        free(p);
    }
    char *p = mf_store_path(s_store, &src);
    unlink(p);
    free(p);
    mf_task_result_fini(&r);
    free(params);
    return 0;
}

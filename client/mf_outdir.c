#include "mf_outdir.h"
#include "mf_fs.h"
#include "mf_log.h"
#include "mf_pcm.h"

#include <errno.h>
#include <jansson.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *rel;
    int64_t frames;
    int rate, channels;
} staged_t;

struct mf_outdir {
    char *dir, *stage;
    staged_t *files;
    size_t n;
};

static char *s_fmt(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, fmt, a, b);
    return p;
}

/* mkdir -p for the folders of a path inside base. */
static int s_mkdirs(const char *base, const char *rel)
{
    char *p = s_fmt("%s/%s", base, rel);
    if (!p) return -1;
    for (char *c = p + strlen(base) + 1; *c; c++) {
        if (*c != '/') continue;
        *c = 0;
        int rc = mkdir(p, 0755);
        *c = '/';
        if (rc != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
    }
    free(p);
    return 0;
}

mf_outdir_t *mf_outdir_open(const char *outdir)
{
    mf_outdir_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->dir = strdup(outdir);
    if (!o->dir || (mkdir(outdir, 0755) != 0 && errno != EEXIST)) {
        mf_error("%s: cannot create the output folder: %s", outdir, strerror(errno));
        goto fail;
    }
    o->stage = s_fmt("%s/.mixfarm-partial-%sXXXXXX", outdir, "");
    if (!o->stage || !mkdtemp(o->stage)) {
        mf_error("%s: cannot write in the output folder: %s", outdir, strerror(errno));
        free(o->stage);
        o->stage = NULL;
        goto fail;
    }
    return o;
fail:
    mf_outdir_free(&o);
    return NULL;
}

static SNDFILE *s_open_wav(const char *path, int channels, int rate, int64_t frames)
{
    /* A plain WAV unless the data outgrows what its 32-bit sizes can say. */
    int big = frames * channels * (int64_t)sizeof(float) > 0xFFFF0000LL;
    SF_INFO info = {.samplerate = rate, .channels = channels,
                    .format = (big ? SF_FORMAT_RF64 : SF_FORMAT_WAV) | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    /* No PEAK chunk: its timestamp would make identical renders differ. */
    if (sf) sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    return sf;
}

mf_err_t mf_outdir_write_signal(mf_outdir_t *o, const char *relpath, const mf_store_t *s,
                                const mf_hash_t *blob, int64_t frames)
{
    mf_pcm_reader_t *r = NULL;
    mf_err_t err = mf_pcm_reader_open(s, blob, &r);
    if (err != MF_OK) return err;
    const mf_pcm_info_t *info = mf_pcm_reader_info(r);
    char *path = s_fmt("%s/%s", o->stage, relpath);
    SNDFILE *sf = NULL;
    float *buf = malloc(sizeof(float) * 2 * 4096);
    if (!path || !buf || s_mkdirs(o->stage, relpath) != 0) {
        err = MF_ERR_IO;
        goto done;
    }
    sf = s_open_wav(path, info->channels, info->rate, frames);
    if (!sf) {
        mf_error("%s/%s: %s", o->dir, relpath, sf_strerror(NULL));
        err = MF_ERR_IO;
        goto done;
    }
    for (int64_t t = 0; t < frames && err == MF_OK; t += 4096) {
        size_t n = (size_t)(frames - t < 4096 ? frames - t : 4096);
        err = mf_pcm_reader_read_span(r, t, n, buf);
        if (err == MF_OK && sf_writef_float(sf, buf, (sf_count_t)n) != (sf_count_t)n) {
            mf_error("%s/%s: %s", o->dir, relpath, sf_strerror(sf));
            err = MF_ERR_IO;
        }
    }
    if (sf_close(sf) != 0 && err == MF_OK) err = MF_ERR_IO;
    sf = NULL;
    if (err == MF_OK) {
        staged_t *f = realloc(o->files, (o->n + 1) * sizeof *f);
        if (!f) {
            err = MF_ERR_NOMEM;
            goto done;
        }
        o->files = f;
        o->files[o->n++] = (staged_t){.rel = strdup(relpath), .frames = frames,
                                      .rate = info->rate, .channels = info->channels};
    }
done:
    free(buf);
    free(path);
    mf_pcm_reader_free(&r);
    return err;
}

static json_t *s_file_entry(const char *stage, const staged_t *f)
{
    char *path = s_fmt("%s/%s", stage, f->rel);
    struct stat st;
    mf_hash_t h;
    json_t *e = NULL;
    if (path && stat(path, &st) == 0 && mf_hash_file(path, &h) == 0)
        e = json_pack("{s:s,s:I,s:s,s:s,s:i,s:i,s:s,s:f}", "path", f->rel, "size",
                      (json_int_t)st.st_size, "sha256", h.hex, "format", "wav", "channels",
                      f->channels, "sample_rate", f->rate, "encoding", "float32", "duration_s",
                      (double)f->frames / f->rate);
    free(path);
    return e;
}

static mf_err_t s_write_manifest(mf_outdir_t *o, const char *session_name)
{
    json_t *files = json_array();
    for (size_t i = 0; files && i < o->n; i++) {
        json_t *e = s_file_entry(o->stage, &o->files[i]);
        if (!e || json_array_append_new(files, e) != 0) {
            json_decref(files);
            return MF_ERR_IO;
        }
    }
    json_t *m = json_pack("{s:i,s:s,s:s,s:o}", "mixfarm", 1, "session", session_name, "version",
                          MF_VERSION, "files", files);
    char *path = s_fmt("%s/%s", o->stage, "manifest.json");
    int rc = m && path ? json_dump_file(m, path, JSON_INDENT(2) | JSON_SORT_KEYS) : -1;
    json_decref(m);
    free(path);
    return rc == 0 ? MF_OK : MF_ERR_IO;
}

static mf_err_t s_move(mf_outdir_t *o, const char *rel)
{
    char *from = s_fmt("%s/%s", o->stage, rel), *to = s_fmt("%s/%s", o->dir, rel);
    mf_err_t err = MF_OK;
    if (!from || !to || s_mkdirs(o->dir, rel) != 0 || rename(from, to) != 0) {
        mf_error("%s/%s: %s", o->dir, rel, strerror(errno));
        err = MF_ERR_IO;
    }
    free(from);
    free(to);
    return err;
}

mf_err_t mf_outdir_commit(mf_outdir_t *o, const char *session_name)
{
    mf_err_t err = s_write_manifest(o, session_name);
    for (size_t i = 0; err == MF_OK && i < o->n; i++) err = s_move(o, o->files[i].rel);
    /* The manifest last: its presence says the render is complete. */
    if (err == MF_OK) err = s_move(o, "manifest.json");
    return err;
}

void mf_outdir_free(mf_outdir_t **op)
{
    if (!op || !*op) return;
    mf_outdir_t *o = *op;
    if (o->stage && mf_fs_remove_tree(o->stage) != 0) mf_warn("%s: cannot remove", o->stage);
    for (size_t i = 0; i < o->n; i++) free(o->files[i].rel);
    free(o->files);
    free(o->stage);
    free(o->dir);
    free(o);
    *op = NULL;
}

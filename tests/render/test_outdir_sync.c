/* OUTDIR survives a power cut once a render says it is done (mf_outdir.c's
 * commit): every file's data is on disk (fsync) before its rename into
 * OUTDIR, every folder it was renamed into is synced after the renames,
 * manifest.json comes last and OUTDIR is synced after it too. fsync,
 * rename and renameat2 are wrapped at link time (-Wl,--wrap) to keep the
 * order of the calls, and to make one fsync fail: then the commit fails
 * naming nothing placed, and no manifest appears; a folder the file system
 * cannot sync (EINVAL) is no failure. mf_fs_rename_durable
 * (the catalogue's state, standalone reports) likewise. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "mf_fs.h"
#include "mf_outdir.h"
#include "mf_pcm.h"

/* The calls, in order: "sync PATH" or "move FROM\tTO". */
enum { MAX_CALLS = 256 };
static char *s_calls[MAX_CALLS];
static int s_n;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *s_fail; /* an fsync of a path ending so fails with s_errno */
static int s_errno = EIO;

static void s_note(const char *a, const char *b)
{
    char line[2 * PATH_MAX + 8];
    snprintf(line, sizeof line, b ? "move %s\t%s" : "sync %s", a, b);
    pthread_mutex_lock(&s_lock);
    if (s_n < MAX_CALLS) s_calls[s_n++] = strdup(line);
    pthread_mutex_unlock(&s_lock);
}

static void s_reset(void)
{
    for (int i = 0; i < s_n; i++) free(s_calls[i]);
    s_n = 0;
    s_fail = NULL;
    s_errno = EIO;
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = 0;
    const size_t len = strlen(path), fl = s_fail ? strlen(s_fail) : 0;
    if (s_fail && len >= fl && !strcmp(path + len - fl, s_fail)) {
        errno = s_errno;
        return -1;
    }
    s_note(path, NULL);
    return __real_fsync(fd);
}

int __real_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to);
int __wrap_rename(const char *from, const char *to)
{
    const int rc = __real_rename(from, to);
    if (rc == 0) s_note(from, to);
    return rc;
}

int __real_renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags);
int __wrap_renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags);
int __wrap_renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
    const int rc = __real_renameat2(fd1, from, fd2, to, flags);
    if (rc == 0) s_note(from, to); /* OUTDIR's paths are absolute here */
    return rc;
}

/* The index of the first call equal to what (from index `from` on), or -1. */
static int s_find(const char *what, int from)
{
    for (int i = from; i < s_n; i++)
        if (!strcmp(s_calls[i], what)) return i;
    return -1;
}

/* The index of the last call before `before` that moves a file to a path
 * anywhere below dir/, or -1. */
static int s_last_move_below(const char *dir, int before)
{
    char want[PATH_MAX + 8];
    snprintf(want, sizeof want, "\t%s/", dir);
    int last = -1;
    for (int i = 0; i < before; i++)
        if (!strncmp(s_calls[i], "move ", 5) && strstr(s_calls[i], want)) last = i;
    return last;
}

/* The move of OUTDIR/rel; its source (the staged file) in from. */
static int s_move_of(const char *out, const char *rel, char *from, size_t size)
{
    char to[PATH_MAX];
    snprintf(to, sizeof to, "\t%s/%s", out, rel);
    for (int i = 0; i < s_n; i++) {
        const char *t = strchr(s_calls[i], '\t');
        if (strncmp(s_calls[i], "move ", 5) || strcmp(t, to)) continue;
        snprintf(from, size, "%.*s", (int)(t - s_calls[i] - 5), s_calls[i] + 5);
        return i;
    }
    return -1;
}

static void s_dump(void)
{
    for (int i = 0; i < s_n; i++) fprintf(stderr, "  %2d %s\n", i, s_calls[i]);
}

typedef struct {
    char root[64], out[128], store_dir[128];
    mf_store_t *store;
    mf_hash_t signal, file;
    json_t *meta;
} fixture_t;

static int s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/mixfarm-test-sync-XXXXXX");
    assert_non_null(mkdtemp(f->root));
    snprintf(f->out, sizeof f->out, "%s/out", f->root);
    snprintf(f->store_dir, sizeof f->store_dir, "%s/store", f->root);
    assert_non_null(f->store = mf_store_open(f->store_dir));
    float x[2 * 4800];
    for (int i = 0; i < 2 * 4800; i++) x[i] = (float)((i * 7919) % 2001 - 1000) / 2000.0f;
    mf_pcm_writer_t *w = mf_pcm_writer_new(f->store, 2, 48000, 0);
    assert_int_equal(mf_pcm_writer_write(w, x, 4800), MF_OK);
    assert_int_equal(mf_pcm_writer_commit(w, &f->signal), MF_OK);
    uint8_t bytes[5000];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 131 + 7);
    assert_int_equal(mf_store_put_bytes(f->store, bytes, sizeof bytes, &f->file), MF_OK);
    f->meta = json_pack("{s:s}", "format", "wav");
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    mf_store_free(&f->store);
    json_decref(f->meta);
    assert_int_equal(mf_fs_remove_tree(f->root), 0);
    free(f);
    s_reset();
    return 0;
}

/* A render's kinds of file, in OUTDIR, a folder below it and one below that. */
static mf_err_t s_render(fixture_t *f)
{
    mf_outdir_t *o = mf_outdir_open(f->out);
    assert_non_null(o);
    mf_err_t err = mf_outdir_write_signal(o, "mix.wav", f->store, &f->signal, -1, "wav", 32);
    if (!err)
        err = mf_outdir_write_signal(o, "stems/Drums.wav", f->store, &f->signal, -1, "wav", 24);
    if (!err) err = mf_outdir_write_file(o, "listen/phone.wav", f->store, &f->file, f->meta);
    if (!err) err = mf_outdir_write_file(o, "listen/car.wav", f->store, &f->file, f->meta);
    if (!err) err = mf_outdir_write_raw(o, "tracks/disc 1/qc.json", f->store, &f->file, "json");
    if (!err) err = mf_outdir_commit(o, "t");
    mf_outdir_free(&o);
    return err;
}

static void s_synced_before(int sync, int move, const char *what)
{
    if (sync < 0 || move < 0 || sync > move) {
        s_dump();
        fail_msg("%s: not on disk before it is renamed (sync at %d, rename at %d)", what, sync,
                 move);
    }
}

static void test_commit_syncs_before_and_after_renames(void **state)
{
    fixture_t *f = *state;
    s_reset();
    assert_int_equal(s_render(f), MF_OK);
    const char *files[] = {"mix.wav",        "stems/Drums.wav",       "listen/phone.wav",
                           "listen/car.wav", "tracks/disc 1/qc.json", "manifest.json"};
    char from[PATH_MAX], line[PATH_MAX + 8], dir[PATH_MAX];
    int manifest_move = -1;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        const int move = s_move_of(f->out, files[i], from, sizeof from);
        snprintf(line, sizeof line, "sync %s", from);
        s_synced_before(s_find(line, 0), move, files[i]);
        if (i == 5) manifest_move = move;
    }
    /* Each folder synced after the last file renamed below it (and so
     * after the folders made for them), before the manifest; OUTDIR after
     * the manifest too. */
    const char *dirs[] = {"stems", "listen", "tracks/disc 1", "tracks", ""};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(dir, sizeof dir, "%s%s%s", f->out, *dirs[i] ? "/" : "", dirs[i]);
        const int last = s_last_move_below(dir, manifest_move);
        snprintf(line, sizeof line, "sync %s", dir);
        const int sync = last < 0 ? -1 : s_find(line, last);
        if (sync < 0 || sync > manifest_move) {
            s_dump();
            fail_msg("%s: not synced between its renames and the manifest's", dir);
        }
    }
    snprintf(line, sizeof line, "sync %s", f->out);
    if (s_find(line, manifest_move) < 0) {
        s_dump();
        fail_msg("OUTDIR not synced after the manifest's rename");
    }
}

static void test_failed_sync_places_nothing(void **state)
{
    fixture_t *f = *state;
    s_reset();
    s_fail = "/listen/car.wav";
    assert_int_equal(s_render(f), MF_ERR_IO);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/manifest.json", f->out);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/mix.wav", f->out);
    assert_int_equal(access(path, F_OK), -1); /* no file renamed at all */
    for (int i = 0; i < s_n; i++) assert_int_not_equal(strncmp(s_calls[i], "move ", 5), 0);
}

/* A file system that cannot sync a folder (EINVAL) still renders. */
static void test_unsyncable_folder_is_no_failure(void **state)
{
    fixture_t *f = *state;
    s_reset();
    s_fail = "/out/listen";
    s_errno = EINVAL;
    assert_int_equal(s_render(f), MF_OK);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/manifest.json", f->out);
    assert_int_equal(access(path, F_OK), 0);
}

static void test_rename_durable(void **state)
{
    fixture_t *f = *state;
    s_reset();
    char tmp[PATH_MAX], path[PATH_MAX], line[2 * PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s/state.json.tmp", f->root);
    snprintf(path, sizeof path, "%s/state.json", f->root);
    FILE *fp = fopen(tmp, "w");
    fputs("{}\n", fp);
    fclose(fp);
    assert_int_equal(mf_fs_rename_durable(tmp, path), 0);
    snprintf(line, sizeof line, "sync %s", tmp);
    const int sync = s_find(line, 0);
    snprintf(line, sizeof line, "move %s\t%s", tmp, path);
    const int move = s_find(line, 0);
    s_synced_before(sync, move, "state.json");
    snprintf(line, sizeof line, "sync %s", f->root);
    if (s_find(line, move) < 0) {
        s_dump();
        fail_msg("the folder not synced after the rename");
    }
    /* Its data cannot reach the disk: not renamed. */
    fp = fopen(tmp, "w");
    fclose(fp);
    s_fail = "/state.json.tmp";
    assert_int_equal(mf_fs_rename_durable(tmp, path), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(access(tmp, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_syncs_before_and_after_renames, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_failed_sync_places_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unsyncable_folder_is_no_failure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rename_durable, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "mf_store.h"
#include "mf_digests.h"
#include "mf_fs.h"
#include "mf_log.h"
#include "mf_writes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct mf_store {
    char *dir;
    mf_writes_t *writes;   /* named writes published (mf_writes.h), or NULL */
    int lasting;           /* outlives this process: no hard links (mf_store_mark_lasting) */
    mf_digests_t *digests; /* of the blobs written around the page cache */
};

struct mf_blob_writer {
    mf_store_t *store;
    char *tmp_path;
    FILE *f;
    char *buf;           /* f's buffer, WRITE_BUFFER bytes */
    mf_hasher_t *hasher; /* NULL: named by the caller */
    mf_hasher_t *digest; /* a direct write's bytes, for the store's digests */
    mf_hash_t name;
    int failed;
    int failed_errno;  /* why, given back in errno so callers can say it (ENOSPC) */
    int watched;       /* a named write published in the store's mf_writes */
    int64_t total;     /* bytes written */
    int64_t published; /* bytes flushed to the file and published */
};

static int s_mkdir(const char *path)
{
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static char *s_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", a, b);
    return p;
}

mf_store_t *mf_store_open(const char *dir)
{
    mf_store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir)) || !(s->digests = mf_digests_new())) goto fail;
    const char *sub[] = {"objects", "tmp", "actions"};
    if (s_mkdir(dir) != 0) goto fail_errno;
    for (size_t i = 0; i < 3; i++) {
        char *p = s_join(dir, sub[i]);
        int rc = p ? s_mkdir(p) : -1;
        free(p);
        if (rc != 0) goto fail_errno;
    }
    return s;
fail_errno:
    mf_error("%s: cannot create the blob store: %s", dir, strerror(errno));
fail:
    mf_store_free(&s);
    return NULL;
}

void mf_store_free(mf_store_t **s)
{
    if (!s || !*s) return;
    mf_writes_free(&(*s)->writes);
    mf_digests_free(&(*s)->digests);
    free((*s)->dir);
    free(*s);
    *s = NULL;
}

int mf_store_digest(const mf_store_t *s, const mf_hash_t *blob, mf_hash_t *sha)
{
    return mf_digests_get(s->digests, blob, sha);
}

const char *mf_store_dir(const mf_store_t *s)
{
    return s->dir;
}

mf_writes_t *mf_store_watch_writes(mf_store_t *s)
{
    if (!s->writes) s->writes = mf_writes_new();
    return s->writes;
}

/* objects/ab/<hash>: two hex digits of fan-out keep folders small. */
static char *s_object_path(const mf_store_t *s, const char *kind, const mf_hash_t *h, int mkdirs)
{
    size_t n = strlen(s->dir) + strlen(kind) + MF_HASH_HEX + 8;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/%s/%.2s", s->dir, kind, h->hex);
    if (mkdirs) s_mkdir(p);
    snprintf(p, n, "%s/%s/%.2s/%s", s->dir, kind, h->hex, h->hex);
    return p;
}

char *mf_store_path(const mf_store_t *s, const mf_hash_t *h)
{
    return s_object_path(s, "objects", h, 0);
}

int mf_store_has(const mf_store_t *s, const mf_hash_t *h)
{
    char *p = mf_store_path(s, h);
    int ok = p && access(p, F_OK) == 0;
    free(p);
    return ok;
}

int64_t mf_store_size(const mf_store_t *s, const mf_hash_t *h)
{
    char *p = mf_store_path(s, h);
    struct stat st;
    int64_t size = p && stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
    free(p);
    return size;
}

int mf_store_discard(mf_store_t *s, const mf_hash_t *h)
{
    static unsigned long s_seq;
    char *from = mf_store_path(s, h), *trash = s_join(s->dir, "trash");
    char to[PATH_MAX];
    int rc = -1;
    if (from && trash && s_mkdir(trash) == 0) {
        snprintf(to, sizeof to, "%s/%s.%ld.%lu", trash, h->hex, (long)getpid(),
                 __atomic_add_fetch(&s_seq, 1, __ATOMIC_RELAXED));
        rc = rename(from, to);
    }
    free(from);
    free(trash);
    return rc;
}

/* Whether the file e in d was last written before the time (since the
 * epoch) cutoff. */
static int s_idle(DIR *d, const struct dirent *e, double cutoff)
{
    struct stat st;
    return fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
           (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec < cutoff;
}

/* Deletes every file in the store's folder sub (with idle_s > 0, only those
 * unwritten for longer); returns how many went. */
static int s_empty(const mf_store_t *s, const char *sub, double idle_s)
{
    char *dir = s_join(s->dir, sub);
    DIR *d = dir ? opendir(dir) : NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now); /* the file system's clock: mtimes */
    const double cutoff = (double)now.tv_sec + 1e-9 * (double)now.tv_nsec - idle_s;
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && (idle_s <= 0 || s_idle(d, e, cutoff)) &&
            unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    if (d) closedir(d);
    free(dir);
    return n;
}

int mf_store_empty_trash(const mf_store_t *s)
{
    return s_empty(s, "trash", 0);
}

int mf_store_touch(const mf_store_t *s, const mf_hash_t *h)
{
    char *p = mf_store_path(s, h);
    const int rc = p ? utimensat(AT_FDCWD, p, NULL, 0) : -1;
    free(p);
    return rc;
}

int mf_store_each_stat(const mf_store_t *s, const char *kind, mf_store_stat_fn fn, void *ctx)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", s->dir, kind);
    DIR *top = opendir(path);
    if (!top) return errno == ENOENT ? 0 : -1;
    int rc = 0;
    for (struct dirent *fan; rc == 0 && (fan = readdir(top));) {
        if (strlen(fan->d_name) != 2) continue;
        snprintf(path, sizeof path, "%s/%s/%s", s->dir, kind, fan->d_name);
        DIR *d = opendir(path);
        for (struct dirent *de; d && rc == 0 && (de = readdir(d));) {
            struct stat st;
            if (!mf_hash_valid(de->d_name)) continue;
            if (fstatat(dirfd(d), de->d_name, &st, 0) != 0) continue; /* gone meanwhile */
            mf_hash_t h;
            memcpy(h.hex, de->d_name, MF_HASH_HEX);
            rc = fn(ctx, &h, &st);
        }
        if (d) closedir(d);
    }
    closedir(top);
    return rc;
}

typedef struct {
    mf_store_each_fn fn;
    void *ctx;
} each_t;

static int s_each(void *ctx, const mf_hash_t *h, const struct stat *st)
{
    const each_t *e = ctx;
    return e->fn(e->ctx, h, (int64_t)st->st_size,
                 (double)st->st_mtim.tv_sec + 1e-9 * (double)st->st_mtim.tv_nsec);
}

int mf_store_each(const mf_store_t *s, mf_store_each_fn fn, void *ctx)
{
    each_t e = {fn, ctx};
    return mf_store_each_stat(s, "objects", s_each, &e);
}

/* One write(2) per 256 KiB: a render writes GBs of signals (mf_fs_buffer).
 * Against 64 KiB, a fifth less system time in the 240 s strip render; 1 MiB
 * doubled it, in the kernel's copy into the page cache (docs/dsp.md). */
#define WRITE_BUFFER (256 * 1024)

/* A new empty file in the store's tmp folder, open: its path (malloc'd)
 * and *fd, or NULL (errno set). */
static char *s_tmp_blob(const mf_store_t *s, int *fd)
{
    const size_t n = strlen(s->dir) + 32;
    char *tmp = malloc(n);
    if (!tmp) return NULL;
    snprintf(tmp, n, "%s/tmp/blob-XXXXXX", s->dir);
    if ((*fd = mkstemp(tmp)) >= 0) return tmp;
    const int saved = errno;
    free(tmp);
    errno = saved;
    return NULL;
}

static mf_blob_writer_t *s_writer_new(mf_store_t *s, const mf_hash_t *name, int direct)
{
    mf_blob_writer_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->store = s;
    if (name)
        w->name = *name;
    else if (!(w->hasher = mf_hasher_new()))
        goto fail;
    int fd = -1;
    if (!(w->tmp_path = s_tmp_blob(s, &fd))) {
        w->failed_errno = errno;
        mf_error("%s: cannot create a blob: %s", s->dir, strerror(errno));
        goto fail;
    }
    if (direct && !s->writes) { /* a watched write is read while it grows: never direct */
        close(fd);
        if (!(w->digest = mf_hasher_new()) || !(w->f = mf_fs_create_direct(w->tmp_path))) {
            unlink(w->tmp_path);
            goto fail;
        }
        return w;
    }
    w->f = fdopen(fd, "wb");
    w->buf = w->f ? mf_fs_buffer(w->f, WRITE_BUFFER) : NULL;
    if (!w->buf) {
        if (w->f)
            fclose(w->f), w->f = NULL;
        else
            close(fd);
        unlink(w->tmp_path);
        goto fail;
    }
    if (name && s->writes) {
        w->watched = 1;
        mf_writes_opened(s->writes, name, fd);
    }
    return w;
fail:
    mf_hasher_free(&w->hasher);
    mf_hasher_free(&w->digest);
    free(w->tmp_path);
    const int saved = w->failed_errno;
    free(w);
    if (saved) errno = saved;
    return NULL;
}

mf_blob_writer_t *mf_blob_writer_new(mf_store_t *s)
{
    return s_writer_new(s, NULL, 0);
}

mf_blob_writer_t *mf_blob_writer_new_named(mf_store_t *s, const mf_hash_t *name)
{
    return s_writer_new(s, name, 0);
}

mf_blob_writer_t *mf_blob_writer_new_direct(mf_store_t *s, const mf_hash_t *name)
{
    return s_writer_new(s, name, 1);
}

/* A full disk (or quota) is said as such all the way up: the task that
 * failed for it is not at fault, and its message should say why. */
static mf_err_t s_io_err(int e)
{
    return e == ENOSPC || e == EDQUOT ? MF_ERR_NOSPACE : MF_ERR_IO;
}

mf_err_t mf_blob_writer_write(mf_blob_writer_t *w, const void *data, size_t n)
{
    if (w->failed) {
        errno = w->failed_errno;
        return s_io_err(w->failed_errno);
    }
    if (w->hasher) mf_hasher_update(w->hasher, data, n);
    if (w->digest) mf_hasher_update(w->digest, data, n);
    if (fwrite(data, 1, n, w->f) != n) {
        w->failed_errno = errno;
        mf_error("%s: writing a blob: %s", w->store->dir, strerror(errno));
        w->failed = 1;
        errno = w->failed_errno;
        return s_io_err(w->failed_errno);
    }
    w->total += (int64_t)n;
    /* What the file holds is readable by an uploader once flushed. */
    if (w->watched && w->total - w->published >= MF_WRITES_STEP && fflush(w->f) == 0) {
        w->published = w->total;
        mf_writes_progress(w->store->writes, &w->name, w->total);
    }
    return MF_OK;
}

/* The end of a watched write: ok, with size bytes in the store, or not. */
static void s_ended(const mf_blob_writer_t *w, int ok)
{
    if (w->watched) mf_writes_ended(w->store->writes, &w->name, ok ? w->total : 0, ok);
}

static void s_writer_free(mf_blob_writer_t *w)
{
    free(w->buf); /* after fclose */
    mf_hasher_free(&w->hasher);
    mf_hasher_free(&w->digest);
    free(w->tmp_path);
    free(w);
}

mf_err_t mf_blob_writer_commit(mf_blob_writer_t *w, mf_hash_t *out)
{
    int rc = fclose(w->f);
    w->f = NULL;
    if (rc != 0 && !w->failed) {
        w->failed_errno = errno;
        mf_error("%s: writing a blob: %s", w->store->dir, strerror(errno));
        w->failed = 1;
    }
    if (w->failed) {
        const int saved = w->failed_errno;
        unlink(w->tmp_path);
        s_ended(w, 0);
        s_writer_free(w);
        errno = saved;
        return s_io_err(saved);
    }
    if (w->hasher)
        mf_hasher_final(w->hasher, out);
    else
        *out = w->name;
    char *dst = s_object_path(w->store, "objects", out, 1);
    mf_err_t err = MF_OK;
    /* rename() over an existing identical blob is harmless and atomic. */
    int saved = 0;
    if (!dst || rename(w->tmp_path, dst) != 0) {
        saved = errno;
        mf_error("%s: storing blob %s: %s", w->store->dir, out->hex, strerror(errno));
        unlink(w->tmp_path);
        err = s_io_err(saved);
    }
    free(dst);
    if (err == MF_OK && w->digest) {
        mf_hash_t sha;
        mf_hasher_final(w->digest, &sha);
        mf_digests_put(w->store->digests, out, &sha);
    }
    s_ended(w, err == MF_OK);
    s_writer_free(w);
    if (saved) errno = saved;
    return err;
}

void mf_blob_writer_abort(mf_blob_writer_t *w)
{
    if (!w) return;
    if (w->f) fclose(w->f);
    unlink(w->tmp_path);
    s_ended(w, 0);
    s_writer_free(w);
}

void mf_store_mark_lasting(mf_store_t *s)
{
    s->lasting = 1;
}

int mf_store_lasting(const mf_store_t *s)
{
    return s->lasting;
}

int mf_store_clear_tmp(mf_store_t *s)
{
    return s_empty(s, "tmp", 0);
}

int mf_store_clear_stale_tmp(mf_store_t *s, double idle_s)
{
    return s_empty(s, "tmp", idle_s);
}

/* Stores the file at path as want by cloning it (Btrfs, XFS: its blocks
 * shared, none written), its bytes read once to check them: 1 when stored,
 * 0 when it cannot be cloned (the caller copies), -1 when its bytes are
 * not want's (it changed since it was hashed). */
static int s_clone_in(mf_store_t *s, const char *path, const mf_hash_t *want)
{
    int fd;
    char *tmp = s_tmp_blob(s, &fd), *dst = NULL;
    if (!tmp) return 0;
    int rc = mf_fs_clone_into(path, fd) == 0;
    close(fd);
    mf_hash_t got;
    if (rc == 1 && (mf_hash_file(tmp, &got) != 0 || strcmp(got.hex, want->hex) != 0)) rc = -1;
    if (rc == 1 && (!(dst = s_object_path(s, "objects", want, 1)) || rename(tmp, dst) != 0)) rc = 0;
    if (rc != 1) unlink(tmp);
    free(dst), free(tmp);
    return rc;
}

mf_err_t mf_store_copy_file(mf_store_t *s, const char *path, const mf_hash_t *want)
{
    if (mf_store_has(s, want)) {
        if (s->lasting) mf_store_touch(s, want); /* used again: kept longest */
        return MF_OK;
    }
    const int cloned = s_clone_in(s, path, want);
    if (cloned < 0) mf_error("%s: the file changed while it was being read", path);
    if (cloned) return cloned > 0 ? MF_OK : MF_ERR_IO;
    FILE *f = fopen(path, "rb");
    mf_blob_writer_t *w = f ? mf_blob_writer_new(s) : NULL;
    if (!w) {
        if (f) fclose(f);
        return MF_ERR_IO;
    }
    char buf[1 << 16];
    size_t n;
    mf_err_t err = MF_OK;
    while (err == MF_OK && (n = fread(buf, 1, sizeof buf, f)) > 0)
        err = mf_blob_writer_write(w, buf, n);
    fclose(f);
    if (err != MF_OK) {
        mf_blob_writer_abort(w);
        return err;
    }
    /* The writer hashes what it copied: a file that changed is caught. */
    mf_hash_t copied;
    err = mf_blob_writer_commit(w, &copied);
    if (err == MF_OK && strcmp(copied.hex, want->hex) != 0) {
        mf_error("%s: the file changed while it was being read", path);
        return MF_ERR_IO;
    }
    return err;
}

mf_err_t mf_store_put_file(mf_store_t *s, const char *path, mf_hash_t *out)
{
    if (mf_hash_file(path, out) != 0) {
        mf_error("%s: %s", path, strerror(errno));
        return errno == ENOENT ? MF_ERR_NOENT : MF_ERR_IO;
    }
    if (mf_store_has(s, out)) {
        if (s->lasting) mf_store_touch(s, out);
        return MF_OK;
    }
    return mf_store_link_file(s, path, out) == 0 ? MF_OK : mf_store_copy_file(s, path, out);
}

int mf_store_link_file(mf_store_t *s, const char *path, const mf_hash_t *h)
{
    if (s->lasting) return -1;
    char *dst = s_object_path(s, "objects", h, 1), abs[PATH_MAX];
    /* Linux's link(2) links a symbolic link itself, whose relative target
     * (../takes/kick.wav) means nothing from the store: link what it names. */
    int rc =
        dst && (linkat(AT_FDCWD, path, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) == 0 || errno == EEXIST)
            ? 0
            : -1;
    if (rc != 0 && dst && realpath(path, abs)) { /* another file system */
        rc = symlink(abs, dst) == 0 || errno == EEXIST ? 0 : -1;
        if (rc == 0) mf_debug("%s: in the store as a symbolic link (another file system)", path);
    }
    free(dst);
    return rc;
}

mf_err_t mf_store_put_bytes(mf_store_t *s, const void *data, size_t n, mf_hash_t *out)
{
    mf_blob_writer_t *w = mf_blob_writer_new(s);
    mf_err_t err = w ? mf_blob_writer_write(w, data, n) : MF_ERR_IO;
    if (err == MF_OK) return mf_blob_writer_commit(w, out);
    if (w) mf_blob_writer_abort(w);
    return err;
}

char *mf_store_read_text(const mf_store_t *s, const mf_hash_t *h, size_t max, size_t *len)
{
    const int64_t size = mf_store_size(s, h);
    char *path = size >= 0 && (uint64_t)size <= max ? mf_store_path(s, h) : NULL;
    FILE *f = path ? fopen(path, "rb") : NULL;
    char *text = f ? malloc((size_t)size + 1) : NULL;
    if (text && fread(text, 1, (size_t)size, f) == (size_t)size) {
        text[size] = 0;
        if (len) *len = (size_t)size;
    } else {
        free(text);
        text = NULL;
    }
    if (f) fclose(f);
    free(path);
    return text;
}

int mf_store_action_get(const mf_store_t *s, const mf_hash_t *key, mf_hash_t *outs, int max)
{
    char *p = s_object_path(s, "actions", key, 0);
    FILE *f = p ? fopen(p, "rb") : NULL;
    free(p);
    if (!f) return -1;
    int n = 0;
    char line[128];
    while (n < max && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (!mf_hash_valid(line)) {
            n = -1;
            break;
        }
        memcpy(outs[n++].hex, line, MF_HASH_HEX);
    }
    fclose(f);
    /* A cached result is only good while its blobs are still there. */
    for (int i = 0; i < n; i++)
        if (!mf_store_has(s, &outs[i])) return -1;
    return n;
}

int mf_store_action_drop(mf_store_t *s, const mf_hash_t *key)
{
    char *p = s_object_path(s, "actions", key, 0);
    const int rc = p ? unlink(p) : -1;
    free(p);
    return rc;
}

mf_err_t mf_store_action_put(mf_store_t *s, const mf_hash_t *key, const mf_hash_t *outs, int n)
{
    char *dst = s_object_path(s, "actions", key, 1);
    size_t tn = strlen(s->dir) + 32;
    char *tmp = malloc(tn);
    if (!dst || !tmp) {
        free(dst);
        free(tmp);
        return MF_ERR_NOMEM;
    }
    snprintf(tmp, tn, "%s/tmp/action-XXXXXX", s->dir);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    mf_err_t err = MF_ERR_IO;
    if (f) {
        for (int i = 0; i < n; i++) fprintf(f, "%s\n", outs[i].hex);
        if (fclose(f) == 0 && rename(tmp, dst) == 0) err = MF_OK;
    }
    if (err != MF_OK) unlink(tmp);
    free(dst);
    free(tmp);
    return err;
}

/* store/mf_fs.h, mf_fs_create_direct: the file holds exactly the bytes
 * written, in any chunking and across its buffer's edges; a header written
 * again after a seek lands; a write the system refuses (EFBIG past the
 * file-size limit) fails the write or the close, with its errno; and on a
 * file system that takes O_DIRECT, the bytes are on disk without having
 * come through the page cache. mf_fs_open_direct reads them back, in any
 * chunking, without bringing them into it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_fs.h"

#define SIZE ((9u << 20) + 12345u) /* past nine of its 1 MiB buffers, not a multiple of a block */

static char s_dir[512];

static unsigned char *s_pattern(size_t n)
{
    unsigned char *x = malloc(n);
    uint32_t v = 12345;
    for (size_t i = 0; x && i < n; i++)
        v = v * 1103515245u + 12345u, x[i] = (unsigned char)(v >> 16);
    return x;
}

static unsigned char *s_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) return NULL;
    unsigned char *x = malloc((size_t)st.st_size + 1);
    *n = x ? fread(x, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    return x;
}

/* path read through mf_fs_open_direct in pieces of `piece` bytes: equal
 * to x, n bytes. */
static void s_read_back(const char *path, const unsigned char *x, size_t n, size_t piece)
{
    FILE *f = mf_fs_open_direct(path);
    assert_non_null(f);
    unsigned char *y = malloc(n + piece);
    size_t got = 0, k;
    while ((k = fread(y + got, 1, piece, f)) > 0) got += k;
    assert_false(ferror(f));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(got, n);
    assert_memory_equal(x, y, n);
    free(y);
}

/* A new direct file named name in the test's folder; its path in path. */
static FILE *s_create(const char *name, char path[600])
{
    snprintf(path, 600, "%s/%s", s_dir, name);
    FILE *f = mf_fs_create_direct(path);
    assert_non_null(f);
    return f;
}

/* Writes x in pieces of the sizes given in turn (cycling), as the OUTDIR
 * writers do: small headers, big sample runs. */
static void s_write(FILE *f, const unsigned char *x, size_t n, const size_t *pieces, int np)
{
    for (size_t at = 0, k = 0; at < n; k++) {
        size_t m = pieces[k % (size_t)np];
        if (m > n - at) m = n - at;
        assert_int_equal(fwrite(x + at, 1, m, f), m);
        at += m;
    }
}

static void test_bytes_as_written(void **state)
{
    (void)state;
    static const size_t pieces[][3] = {{44, 1 << 16, 7}, {SIZE, 1, 1}, {4096, 4096, 4096}};
    unsigned char *x = s_pattern(SIZE);
    assert_non_null(x);
    char path[600];
    snprintf(path, sizeof path, "%s/a.wav", s_dir);
    for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
        FILE *f = mf_fs_create_direct(path);
        assert_non_null(f);
        s_write(f, x, SIZE, pieces[p], 3);
        assert_int_equal(fclose(f), 0);
        size_t n = 0;
        unsigned char *y = s_slurp(path, &n);
        assert_non_null(y);
        assert_int_equal(n, SIZE); /* the padded last block cut back */
        assert_memory_equal(x, y, SIZE);
        free(y);
        /* And read back around the cache, in any chunking. */
        s_read_back(path, x, SIZE, pieces[p][1]);
    }
    /* Empty, and shorter than a block. */
    for (size_t len = 0; len < 200; len += 199) {
        FILE *f = mf_fs_create_direct(path); /* emptied: the old file was longer */
        assert_non_null(f);
        assert_int_equal(fwrite(x, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        size_t n = 1;
        unsigned char *y = s_slurp(path, &n);
        assert_int_equal(n, len);
        assert_memory_equal(x, y, len);
        free(y);
        s_read_back(path, x, len, 7);
    }
    /* A file that is not there: NULL, with why. */
    snprintf(path, sizeof path, "%s/none.wav", s_dir);
    errno = 0;
    assert_null(mf_fs_open_direct(path));
    assert_int_equal(errno, ENOENT);
    free(x);
}

/* outdir_stream.c's deferred header: everything, then the first bytes again. */
static void test_header_again(void **state)
{
    (void)state;
    unsigned char *x = s_pattern(SIZE);
    assert_non_null(x);
    char path[600];
    FILE *f = s_create("b.wav", path);
    s_write(f, x, SIZE, (const size_t[]){100000}, 1);
    static const unsigned char head[44] = "RIFF....WAVEfmt the header written again";
    assert_int_equal(fflush(f), 0);
    assert_int_equal(fseeko(f, 0, SEEK_SET), 0);
    assert_int_equal(fwrite(head, 1, sizeof head, f), sizeof head);
    assert_int_equal(fseeko(f, 0, SEEK_END), 0);
    assert_int_equal(fwrite("tail", 1, 4, f), 4);
    assert_int_equal(fclose(f), 0);
    memcpy(x, head, sizeof head);
    size_t n = 0;
    unsigned char *y = s_slurp(path, &n);
    assert_int_equal(n, SIZE + 4);
    assert_memory_equal(x, y, SIZE);
    assert_memory_equal(y + SIZE, "tail", 4);
    free(x), free(y);
}

/* Past RLIMIT_FSIZE a write fails with EFBIG (SIGXFSZ ignored): the
 * writer reports it, from fwrite or at the latest from fclose. */
/* Writes total bytes into a new direct file name, piece bytes at a time
 * from src (advancing through it, or the same piece again), the file size
 * limited to 1 MiB: the errno the write or the close failed with, or 0. */
static int s_write_refused(const char *name, const unsigned char *src, size_t piece, int advance,
                           size_t total)
{
    char path[600];
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old, lim.rlim_cur = 1 << 20;
    signal(SIGXFSZ, SIG_IGN);
    FILE *f = s_create(name, path);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int failed = 0, err = 0;
    for (size_t at = 0; at < total && !failed; at += piece) {
        const size_t m = total - at < piece ? total - at : piece;
        if (fwrite(src + (advance ? at : 0), 1, m, f) != m) failed = 1, err = errno;
    }
    if (fclose(f) != 0 && !failed) failed = 1, err = errno;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    return failed ? err : 0;
}

static void test_refused_write(void **state)
{
    (void)state;
    unsigned char *x = s_pattern(SIZE);
    assert_non_null(x);
    assert_int_equal(s_write_refused("c.wav", x, 65536, 1, SIZE), EFBIG);
    free(x);
}

/* The same refusal, each write's bytes ending where the mapping does: a
 * cookie that tells fwrite -1 instead of 0 makes glibc read past them
 * (fopencookie(3)), which here is a crash, not a silent over-read. */
static void test_refused_write_at_guard(void **state)
{
    (void)state;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *m =
        mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(mprotect(m + page, page, PROT_NONE), 0);
    memset(m, 0x5a, page);
    assert_int_equal(s_write_refused("g.wav", m, page, 0, 8u << 20), EFBIG);
    munmap(m, 2 * page);
}

/* Pages of path in the page cache. */
static size_t s_cached_pages(const char *path, size_t *pages)
{
    const int fd = open(path, O_RDONLY);
    struct stat st;
    assert_true(fd >= 0 && fstat(fd, &st) == 0);
    const long pg = sysconf(_SC_PAGESIZE);
    *pages = ((size_t)st.st_size + (size_t)pg - 1) / (size_t)pg;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    unsigned char *vec = calloc(*pages, 1);
    assert_non_null(vec);
    assert_int_equal(mincore(m, (size_t)st.st_size, vec), 0);
    size_t n = 0;
    for (size_t i = 0; i < *pages; i++) n += vec[i] & 1;
    free(vec);
    munmap(m, (size_t)st.st_size);
    close(fd);
    return n;
}

static void test_around_the_cache(void **state)
{
    (void)state;
    char probe[600], path[600];
    snprintf(probe, sizeof probe, "%s/probe", s_dir);
    const int fd = open(probe, O_WRONLY | O_CREAT | O_DIRECT, 0600);
    if (fd < 0) skip(); /* this file system takes no direct writes: nothing to see */
    close(fd);
    struct statfs fs; /* tmpfs takes O_DIRECT, and is all page cache */
    if (statfs(s_dir, &fs) == 0 && fs.f_type == TMPFS_MAGIC) skip();
    unsigned char *x = s_pattern(SIZE);
    assert_non_null(x);
    FILE *f = s_create("d.wav", path);
    s_write(f, x, SIZE, (const size_t[]){44, 1 << 16}, 2);
    assert_int_equal(fclose(f), 0);
    size_t pages, cached = s_cached_pages(path, &pages);
    assert_true(pages > 2000);
    assert_true(cached <= 1); /* at most the last block, after its truncate */
    /* Read back around the cache too: still not in it. */
    s_read_back(path, x, SIZE, 1 << 16);
    assert_true(s_cached_pages(path, &pages) <= 1);
    free(x);
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/fs-direct-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return mf_fs_remove_tree(s_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_as_written), cmocka_unit_test(test_header_again),
        cmocka_unit_test(test_refused_write),    cmocka_unit_test(test_refused_write_at_guard),
        cmocka_unit_test(test_around_the_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

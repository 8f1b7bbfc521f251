/* Disk: copies that clone. A small XFS (reflink) is made in a file and
 * loop-mounted in a private mount namespace (as root, with mkfs.xfs from
 * xfsprogs), so the mount vanishes with the program; where any of that is
 * not allowed or not there, the program exits 77 (ctest: skipped).
 *
 *   clone_shares_blocks     mf_fs_clone makes a file with the same bytes
 *                           whose every extent is shared with the first;
 *                           writing into it leaves the first as it was; an
 *                           existing file is not replaced (EEXIST); across
 *                           file systems it fails with nothing left behind
 *   store_clones_files      a lasting store (--state) takes a file on the
 *                           same file system by a clone, checked against
 *                           its hash: a file that is not refused, with no
 *                           clone left in the store's tmp
 *   render_clones_copies    a render with --state on that file system: the
 *                           files OUTDIR takes from the lasting store (the
 *                           listening copies) share their blocks with it,
 *                           and manifest.json's hashes are the files'; on
 *                           a farm, a revision into a new folder takes the
 *                           stem it leaves alone from the first render the
 *                           same way, also by default from a coordinator
 *                           on this machine (only clones are taken so) */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cluster_util.h"
#include "disk_util.h"
#include "mf_fs.h"
#include "mf_hash.h"
#include "mf_store.h"
#include "test_proc.h"

static char s_xfs[1200], s_image[1200];

/* Whether every extent of path's data is shared with another file (and it
 * has some). */
static int s_all_shared(const char *path)
{
    const int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    enum { MAX = 64 };
    struct fiemap *m = calloc(1, sizeof *m + MAX * sizeof(struct fiemap_extent));
    assert_non_null(m);
    m->fm_length = FIEMAP_MAX_OFFSET, m->fm_flags = FIEMAP_FLAG_SYNC, m->fm_extent_count = MAX;
    assert_int_equal(ioctl(fd, FS_IOC_FIEMAP, m), 0);
    close(fd);
    int shared = m->fm_mapped_extents > 0;
    for (unsigned i = 0; i < m->fm_mapped_extents; i++)
        shared &= (m->fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED) != 0;
    free(m);
    return shared;
}

static void s_fill(const char *path, size_t n, unsigned char seed)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) fputc((int)((i * 131 + seed) & 0xFF), f);
    assert_int_equal(fclose(f), 0);
}

static void test_clone_shares_blocks(void **state)
{
    (void)state;
    char a[1300], b[1300], other[1300];
    snprintf(a, sizeof a, "%s/a.bin", s_xfs);
    snprintf(b, sizeof b, "%s/b.bin", s_xfs);
    s_fill(a, 4 << 20, 1);
    assert_int_equal(mf_fs_clone(a, b), 0);
    assert_true(cl_same_file(a, b));
    assert_true(s_all_shared(b));
    /* Either may be written: the other keeps its bytes. */
    s_fill(b, 4 << 20, 2);
    assert_false(cl_same_file(a, b));
    mf_hash_t h, want;
    assert_int_equal(mf_hash_file(a, &h), 0);
    s_fill(b, 4 << 20, 1);
    assert_int_equal(mf_hash_file(b, &want), 0);
    assert_string_equal(h.hex, want.hex);
    /* An existing file is left alone. */
    errno = 0;
    assert_int_equal(mf_fs_clone(a, b), -1);
    assert_int_equal(errno, EEXIST);
    /* Another file system: no clone, and nothing made. */
    cl_path(other, sizeof other, cl_test_dir(), "elsewhere.bin");
    assert_int_equal(mf_fs_clone(a, other), -1);
    assert_int_not_equal(access(other, F_OK), 0);
    cl_test_pass();
}

/* The number of entries in dir (none: 0). */
static int s_entries(const char *dir)
{
    char cmd[1500];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void test_store_clones_files(void **state)
{
    (void)state;
    char dir[1300], src[1300], tmp[1400];
    snprintf(dir, sizeof dir, "%s/store", s_xfs);
    snprintf(src, sizeof src, "%s/source.wav", s_xfs);
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    s_fill(src, 3 << 20, 7);
    mf_store_t *st = mf_store_open(dir);
    assert_non_null(st);
    mf_store_mark_lasting(st); /* --state: files are copied in, never linked */
    mf_hash_t h, stale;
    assert_int_equal(mf_store_put_file(st, src, &h), MF_OK);
    char *blob = mf_store_path(st, &h);
    assert_true(cl_same_file(blob, src));
    assert_true(s_all_shared(blob));
    free(blob);
    /* A file whose bytes are not the hash asked for is refused, and no
     * clone is left behind. */
    mf_hash_bytes("other", 5, &stale);
    assert_int_equal(mf_store_copy_file(st, src, &stale), MF_ERR_IO);
    assert_int_equal(mf_store_has(st, &stale), 0);
    assert_int_equal(s_entries(tmp), 0);
    mf_store_free(&st);
    cl_test_pass();
}

/* Every file manifest.json lists in out has the SHA-256 it says. */
static void s_assert_manifest(const char *out)
{
    char path[1400];
    cl_path(path, sizeof path, out, "manifest.json");
    json_error_t jerr;
    json_t *m = json_load_file(path, 0, &jerr);
    assert_non_null(m);
    json_t *files = json_object_get(m, "files"), *f;
    size_t i;
    assert_true(json_array_size(files) > 5);
    json_array_foreach(files, i, f)
    {
        mf_hash_t h;
        cl_path(path, sizeof path, out, json_string_value(json_object_get(f, "path")));
        assert_int_equal(mf_hash_file(path, &h), 0);
        assert_string_equal(h.hex, json_string_value(json_object_get(f, "sha256")));
    }
    json_decref(m);
}

static cl_run_t s_render_state(const char *session, const char *out, const char *state_dir)
{
    const char *argv[] = {cl_bin("mixfarm"), "render", session,   "-o",      out, "--quiet",
                          "--workers",       "2",      "--state", state_dir, NULL};
    return cl_run(argv, 120 * CL_SLOW);
}

/* out's manifest is right and its Music stem is first's, by a clone. */
static void s_assert_music_cloned(const char *out, const char *first)
{
    char path[1400], earlier[1400];
    s_assert_manifest(out);
    cl_path(path, sizeof path, out, "stems/Music.wav");
    cl_path(earlier, sizeof earlier, first, "stems/Music.wav");
    assert_true(cl_same_file(path, earlier));
    assert_true(s_all_shared(path));
}

static void test_render_clones_copies(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char song[1300], rev[1300], st[1300], v1[1300], f1[1300], f2[1300], f3[1300], path[1400],
        earlier[1400];
    const cl_session_t s = {.n_tracks = 4, .prefix = "t", .track0_gain_db = -3};
    cl_write_session(dir, "song.json", "Song", &s, 6, 1);
    cl_path(song, sizeof song, dir, "song.json");
    snprintf(st, sizeof st, "%s/state", s_xfs);
    snprintf(v1, sizeof v1, "%s/v1", s_xfs);
    /* Embedded with a lasting store: OUTDIR's listening copies are the
     * store's files, cloned. */
    cl_run_t r = s_render_state(song, v1, st);
    assert_int_equal(r.rc, 0);
    cl_run_free(&r);
    s_assert_manifest(v1);
    const char *sys[] = {"phone", "earbuds", "laptop", "car", "club", "mono"};
    for (size_t i = 0; i < sizeof sys / sizeof *sys; i++) {
        snprintf(path, sizeof path, "%s/listen/%s.wav", v1, sys[i]);
        assert_true(s_all_shared(path));
    }
    /* A revision on a farm, into a new folder: track 1's fader, which
     * feeds Drums only; Music's stem is taken from the first render, by a
     * clone (copies from a coordinator on this machine: MIXFARM_REUSE=1). */
    cl_write_track1_revision(song, dir, "song-tk1.json", rev, sizeof rev);
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);
    snprintf(f1, sizeof f1, "%s/f1", s_xfs);
    snprintf(f2, sizeof f2, "%s/f2", s_xfs);
    cl_render(song, f1, 0, &c);
    setenv("MIXFARM_REUSE", "1", 1);
    cl_render(rev, f2, 0, &c);
    setenv("MIXFARM_REUSE", "0", 1);
    s_assert_music_cloned(f2, f1);
    snprintf(path, sizeof path, "%s/stems/Drums.wav", f2);
    snprintf(earlier, sizeof earlier, "%s/stems/Drums.wav", f1);
    assert_false(cl_same_file(path, earlier));
    /* By default a coordinator on this machine is as near as the earlier
     * folder, so files are taken from it only by a clone: here they are. */
    snprintf(f3, sizeof f3, "%s/f3/", s_xfs); /* OUTDIR as a shell completes it */
    unsetenv("MIXFARM_REUSE");
    cl_render(rev, f3, 0, &c);
    setenv("MIXFARM_REUSE", "0", 1);
    s_assert_music_cloned(f3, f1);
    cl_test_pass();
}

static int s_run_quiet(const char *cmd)
{
    char line[2600];
    snprintf(line, sizeof line, "%s >/dev/null 2>&1", cmd);
    return system(line);
}

/* The XFS in a file under the program's root, mounted at s_xfs; a reason
 * when it cannot be. */
static const char *s_make_xfs(void)
{
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return "no private mount namespace (needs root or CAP_SYS_ADMIN)";
    if (s_run_quiet("command -v mkfs.xfs") != 0) return "no mkfs.xfs (xfsprogs)";
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(s_image, sizeof s_image, "%s/mf-xfs-%d.img", tmp, (int)getpid());
    snprintf(s_xfs, sizeof s_xfs, "%s/mf-xfs-%d", tmp, (int)getpid());
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "truncate -s 400M '%s' && mkfs.xfs -q -m reflink=1 '%s'", s_image,
             s_image);
    if (s_run_quiet(cmd) != 0) return "mkfs.xfs failed";
    if (mkdir(s_xfs, 0755) != 0) return "cannot make the mount point";
    snprintf(cmd, sizeof cmd, "mount -o loop '%s' '%s'", s_image, s_xfs);
    if (s_run_quiet(cmd) != 0) return "no loop mount of an XFS (loop devices, the xfs module)";
    return NULL;
}

static void s_remove_xfs(void)
{
    umount2(s_xfs, MNT_DETACH);
    rmdir(s_xfs);
    unlink(s_image);
}

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 560 : 280);
}

int main(void)
{
    const char *why = s_make_xfs();
    if (why) {
        fprintf(stderr, "disk_clone: skipped: %s\n", why);
        s_remove_xfs();
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_clone_shares_blocks, cl_setup, cl_teardown,
                                                 "clone_shares_blocks"),
        cmocka_unit_test_prestate_setup_teardown(test_store_clones_files, cl_setup, cl_teardown,
                                                 "store_clones_files"),
        cmocka_unit_test_prestate_setup_teardown(test_render_clones_copies, cl_setup, cl_teardown,
                                                 "render_clones_copies"),
    };
    const int failed = cmocka_run_group_tests(tests, group_setup, NULL);
    s_remove_xfs();
    return failed;
}

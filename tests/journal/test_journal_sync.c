/* What the journal puts on disk at once: a new job's row (its id goes to a
 * client, and a catalogue's flushed state names it), and not the loop's
 * groups of state changes (synchronous=NORMAL: a sync per group would cost
 * dispatch a fifth of its rate). fsync and fdatasync are defined here, in
 * the executable, so they stand in for libc's in SQLite too; they count the
 * syncs of the WAL made by this thread (the checkpoint thread syncs on its
 * own) and pass on to libc's. */
#include <dlfcn.h>
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

#include "mf_fs.h"
#include "mf_journal.h"

static pthread_t s_main;
static int s_wal_syncs; /* by s_main */

/* libc's function of that name (dlsym gives an object pointer; ISO C has
 * no cast from it to a function pointer, so its bytes are copied). */
static int (*s_libc(const char *name))(int)
{
    void *p = dlsym(RTLD_NEXT, name);
    int (*fn)(int);
    memcpy(&fn, &p, sizeof fn);
    return fn;
}

static void s_count(int fd)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = 0;
    const size_t len = strlen(path);
    if (pthread_equal(pthread_self(), s_main) && len > 4 && !strcmp(path + len - 4, "-wal"))
        s_wal_syncs++;
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real) real = s_libc("fsync");
    s_count(fd);
    return real(fd);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real) real = s_libc("fdatasync");
    s_count(fd);
    return real(fd);
}

static void job_on_disk_groups_not(void **state)
{
    (void)state;
    char dir[] = "/tmp/mf-journal-sync-XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_main = pthread_self();
    mf_journal_t *j = mf_journal_open(dir);
    assert_non_null(j);
    /* A group of state changes, as the loop commits one a turn. */
    const uint64_t first = mf_journal_add_job(j, "a", "{}", "{}", 0);
    assert_true(first > 0);
    s_wal_syncs = 0;
    mf_journal_begin(j);
    for (uint32_t t = 0; t < 50; t++)
        mf_journal_task(j, first, t, "strip X", "running", "w1", 0, NULL, NULL);
    mf_journal_commit(j);
    assert_int_equal(s_wal_syncs, 0);
    /* A job, in the middle of a group: synced before its id is returned. */
    mf_journal_begin(j);
    mf_journal_task(j, first, 0, "strip X", "done", "w1", 0.1, NULL, NULL);
    const uint64_t second = mf_journal_add_job(j, "b", "{}", "{}", 0);
    assert_int_equal(second, first + 1);
    if (s_wal_syncs < 1) fail_msg("a new job's row was not synced before its id was returned");
    /* And the groups after it are not: NORMAL again. */
    s_wal_syncs = 0;
    for (uint32_t t = 1; t < 50; t++)
        mf_journal_task(j, first, t, "strip X", "done", "w1", 0.1, NULL, NULL);
    mf_journal_commit(j);
    assert_int_equal(s_wal_syncs, 0);
    mf_journal_free(&j);
    assert_int_equal(mf_fs_remove_tree(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(job_on_disk_groups_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

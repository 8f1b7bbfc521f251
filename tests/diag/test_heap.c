/* diag/mf_heap.h: after mf_heap_pretouch, buffers any thread allocates
 * and writes cost no page faults; without it they cost one per 4 KiB. Each
 * case runs in a child process of its own, so that its heap is fresh. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_heap.h"

#define CHUNK ((size_t)1 << 20) /* as blobs move */
#define CHUNKS 8                /* 2,048 pages */

/* What a ZeroMQ I/O thread does with received chunks: allocate, fill. */
static void *s_fill(void *arg)
{
    void **bufs = arg;
    for (int i = 0; i < CHUNKS; i++)
        if ((bufs[i] = malloc(CHUNK))) memset(bufs[i], i + 1, CHUNK);
    return NULL;
}

static long s_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

/* Page faults taken by a thread filling CHUNKS chunks in a child process
 * whose heap was tuned and, when pretouch, pre-touched with room for them. */
static long s_child_faults(int pretouch)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mf_heap_tune();
        if (pretouch) mf_heap_pretouch(CHUNKS * CHUNK + (4 << 20));
        void *bufs[CHUNKS] = {0};
        pthread_t t;
        const long before = s_faults();
        long faults = -1;
        if (pthread_create(&t, NULL, s_fill, bufs) == 0 && pthread_join(t, NULL) == 0)
            faults = s_faults() - before;
        for (int i = 0; i < CHUNKS; i++) faults = bufs[i] ? faults : -1;
        _exit(write(fd[1], &faults, sizeof faults) == sizeof faults ? 0 : 1);
    }
    close(fd[1]);
    long faults = -2;
    assert_int_equal(read(fd[0], &faults, sizeof faults), sizeof faults);
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return faults;
}

static int s_supported(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0; /* the sanitizer's allocator ignores mallopt */
#elif !defined(__GLIBC__) || !defined(MADV_POPULATE_WRITE)
    return 0;
#else
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const int ok = p != MAP_FAILED && madvise(p, 4096, MADV_POPULATE_WRITE) == 0;
    if (p != MAP_FAILED) munmap(p, 4096);
    return ok; /* Linux 5.14 and later */
#endif
}

/* The control first: the count is of the pages the thread touched. */
static void test_fresh_heap_faults(void **state)
{
    (void)state;
    if (!s_supported()) skip();
    const long faults = s_child_faults(0);
    print_message("fresh heap: %ld faults for %d pages\n", faults, (int)(CHUNKS * CHUNK / 4096));
    assert_true(faults >= (long)(CHUNKS * CHUNK / 4096) * 9 / 10);
}

static void test_pretouched_heap_serves_threads(void **state)
{
    (void)state;
    if (!s_supported()) skip();
    const long faults = s_child_faults(1);
    print_message("pre-touched heap: %ld faults\n", faults);
    assert_true(faults >= 0);
    assert_true(faults < 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_heap_faults),
        cmocka_unit_test(test_pretouched_heap_serves_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

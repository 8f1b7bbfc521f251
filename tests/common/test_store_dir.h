/* A blob store in a fresh folder under TMPDIR: the fixture the store tests
 * start from (cmocka's setup and teardown). Header-only. */
#ifndef MF_TEST_STORE_DIR_H
#define MF_TEST_STORE_DIR_H

#include <stdio.h>
#include <stdlib.h>

#include "mf_fs.h"
#include "mf_store.h"

typedef struct {
    char dir[512];     /* the folder, removed at teardown */
    mf_store_t *store; /* in dir, or in dir/sub */
} test_store_dir_t;

/* *state becomes a test_store_dir_t whose folder is named after name. */
static inline int test_store_dir_setup(void **state, const char *name, const char *sub)
{
    test_store_dir_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    *state = f;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name);
    if (!mkdtemp(f->dir)) return -1;
    char at[600];
    snprintf(at, sizeof at, "%s%s%s", f->dir, sub ? "/" : "", sub ? sub : "");
    f->store = mf_store_open(at);
    return f->store ? 0 : -1;
}

static inline int test_store_dir_teardown(void **state)
{
    test_store_dir_t *f = *state;
    if (!f) return 0;
    mf_store_free(&f->store);
    if (f->dir[0]) mf_fs_remove_tree(f->dir);
    free(f);
    return 0;
}

#endif

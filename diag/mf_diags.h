/* A list of problems found in one input, each tied to a file and a key path
 * (tracks[3].inserts[0].ratio). Validation reports every problem, not only
 * the first; the caller prints them all and decides. */
#ifndef MF_DIAGS_H
#define MF_DIAGS_H

#include <stddef.h>

typedef enum { MF_DIAG_ERROR, MF_DIAG_WARNING } mf_diag_kind_t;

typedef struct {
    mf_diag_kind_t kind;
    char *path;    /* key path inside the document, "" for the whole file */
    char *message; /* what is wrong, in words */
} mf_diag_t;

typedef struct {
    char *file; /* the document the paths refer to */
    mf_diag_t *items;
    size_t count, cap;
    size_t errors; /* how many items are errors */
} mf_diags_t;

void mf_diags_init(mf_diags_t *d, const char *file);
void mf_diags_fini(mf_diags_t *d);
void mf_diags_add(mf_diags_t *d, mf_diag_kind_t kind, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define mf_diags_error(d, path, ...) mf_diags_add((d), MF_DIAG_ERROR, (path), __VA_ARGS__)
#define mf_diags_warn(d, path, ...) mf_diags_add((d), MF_DIAG_WARNING, (path), __VA_ARGS__)
/* Prints every item to stderr as "mixfarm: FILE: PATH: message". */
void mf_diags_print(const mf_diags_t *d);
/* The first error item whose path starts with prefix, or NULL (for tests). */
const mf_diag_t *mf_diags_find(const mf_diags_t *d, const char *prefix);

#endif

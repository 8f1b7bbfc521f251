#include "mf_diags.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mf_diags_init(mf_diags_t *d, const char *file)
{
    memset(d, 0, sizeof *d);
    d->file = strdup(file ? file : "");
}

void mf_diags_fini(mf_diags_t *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    free(d->file);
    memset(d, 0, sizeof *d);
}

void mf_diags_add(mf_diags_t *d, mf_diag_kind_t kind, const char *path, const char *fmt, ...)
{
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        mf_diag_t *items = realloc(d->items, cap * sizeof *items);
        if (!items) abort(); /* a problem list that cannot grow: nothing sane to do */
        d->items = items;
        d->cap = cap;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mf_diag_t *it = &d->items[d->count++];
    it->kind = kind;
    it->path = strdup(path ? path : "");
    it->message = strdup(msg);
    if (kind == MF_DIAG_ERROR) d->errors++;
}

void mf_diags_print(const mf_diags_t *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const mf_diag_t *it = &d->items[i];
        fprintf(stderr, "mixfarm: %s: %s%s%s%s\n", d->file,
                it->kind == MF_DIAG_WARNING ? "warning: " : "", it->path, it->path[0] ? ": " : "",
                it->message);
    }
}

const mf_diag_t *mf_diags_find(const mf_diags_t *d, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].kind == MF_DIAG_ERROR && strncmp(d->items[i].path, prefix, n) == 0)
            return &d->items[i];
    return NULL;
}

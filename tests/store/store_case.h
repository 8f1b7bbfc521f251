/* What the store, signal and task tests share (header-only): deterministic
 * bytes, whole files, and a blob put from memory. */
#ifndef MF_STORE_CASE_H
#define MF_STORE_CASE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mf_store.h"

static inline void *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static inline void write_whole(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Deterministic bytes. */
static inline void fill(unsigned char *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (unsigned char)(seed >> 24);
    }
}

static inline void put_bytes(mf_store_t *s, const void *data, size_t n, mf_hash_t *out)
{
    mf_blob_writer_t *w = mf_blob_writer_new(s);
    assert_non_null(w);
    if (n) assert_int_equal(mf_blob_writer_write(w, data, n), MF_OK);
    assert_int_equal(mf_blob_writer_commit(w, out), MF_OK);
}

#endif

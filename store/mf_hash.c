#include "mf_hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <xxhash.h>
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
/* libxxhash picks AVX2 or AVX-512 at run time here: about three times the
 * speed of the SSE2 build XXH3_64bits gets (11 -> 30 GB/s on the CI host),
 * and every chunk in transit is checked twice. Same digest either way. */
#include <xxh_x86dispatch.h>
#define MF_XXH3 XXH3_64bits_dispatch
#else
#define MF_XXH3 XXH3_64bits
#endif

struct mf_hasher {
    EVP_MD_CTX *ctx;
};

/* SHA-256 fetched from OpenSSL's provider once: EVP_sha256() makes every
 * init look it up again under a lock, which cost more than hashing a task
 * key or an output name (hundreds of thousands a second when dispatching). */
static EVP_MD *s_md;
static once_flag s_md_once = ONCE_FLAG_INIT;
static void s_md_fetch(void)
{
    s_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *s_sha256(void)
{
    call_once(&s_md_once, s_md_fetch);
    return s_md ? s_md : EVP_sha256();
}

void mf_hash_from_bytes(const unsigned char in[MF_HASH_BYTES], mf_hash_t *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < MF_HASH_BYTES; i++) {
        out->hex[2 * i] = digits[in[i] >> 4];
        out->hex[2 * i + 1] = digits[in[i] & 15];
    }
    out->hex[64] = 0;
}

/* The value of a lowercase hex digit (hashes are valid where this is used). */
static unsigned s_nibble(char c)
{
    return (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
}

uint64_t mf_hash_prefix64(const mf_hash_t *h)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) v = v << 4 | s_nibble(h->hex[i]);
    return v ? v : 1;
}

void mf_hash_to_bytes(const mf_hash_t *h, unsigned char out[MF_HASH_BYTES])
{
    for (unsigned i = 0; i < MF_HASH_BYTES; i++)
        out[i] = (unsigned char)(s_nibble(h->hex[2 * i]) << 4 | s_nibble(h->hex[2 * i + 1]));
}

mf_hasher_t *mf_hasher_new(void)
{
    mf_hasher_t *h = malloc(sizeof *h);
    if (!h) return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || !EVP_DigestInit_ex(h->ctx, s_sha256(), NULL)) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }
    return h;
}

void mf_hasher_update(mf_hasher_t *h, const void *data, size_t n)
{
    EVP_DigestUpdate(h->ctx, data, n);
}

void mf_hasher_final(mf_hasher_t *h, mf_hash_t *out)
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    mf_hash_from_bytes(md, out);
    EVP_DigestInit_ex(h->ctx, s_sha256(), NULL);
}

void mf_hasher_free(mf_hasher_t **h)
{
    if (!h || !*h) return;
    EVP_MD_CTX_free((*h)->ctx);
    free(*h);
    *h = NULL;
}

void mf_hash_bytes(const void *data, size_t n, mf_hash_t *out)
{
    unsigned char md[32];
    unsigned int len = 0;
    if (!EVP_Digest(data, n, md, &len, s_sha256(), NULL)) abort();
    mf_hash_from_bytes(md, out);
}

int mf_hash_file(const char *path, mf_hash_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    mf_hasher_t *h = mf_hasher_new();
    if (!h) {
        fclose(f);
        return -1;
    }
    static const size_t chunk = 1 << 16;
    unsigned char *buf = malloc(chunk);
    size_t n;
    int rc = buf ? 0 : -1;
    while (buf && (n = fread(buf, 1, chunk, f)) > 0) mf_hasher_update(h, buf, n);
    if (ferror(f)) rc = -1;
    mf_hasher_final(h, out);
    mf_hasher_free(&h);
    free(buf);
    fclose(f);
    return rc;
}

int mf_hash_valid(const char *s)
{
    if (!s || strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

uint64_t mf_checksum(const void *data, size_t n)
{
    return (uint64_t)MF_XXH3(data, n);
}

/* SHA-256 as the content address of every blob and the key of every action,
 * and the checksum in manifest.json. OpenSSL's libcrypto uses the CPU's SHA
 * instructions, so hashing costs well under a nanosecond per byte. */
#ifndef MF_HASH_H
#define MF_HASH_H

#include <stddef.h>
#include <stdint.h>

#define MF_HASH_HEX 65 /* 64 hex digits and a NUL */

typedef struct {
    char hex[MF_HASH_HEX];
} mf_hash_t;

typedef struct mf_hasher mf_hasher_t;

mf_hasher_t *mf_hasher_new(void);
void mf_hasher_update(mf_hasher_t *h, const void *data, size_t n);
/* Writes the digest as hex; the hasher may then be reused from scratch. */
void mf_hasher_final(mf_hasher_t *h, mf_hash_t *out);
void mf_hasher_free(mf_hasher_t **h);

void mf_hash_bytes(const void *data, size_t n, mf_hash_t *out);
/* Hashes a whole file; returns 0, or -1 with errno set. */
int mf_hash_file(const char *path, mf_hash_t *out);
/* 1 if s is 64 lowercase hex digits. */
int mf_hash_valid(const char *s);
/* The 32 bytes a (valid) hash spells, and back: for storing hashes compactly
 * (the journal's action cache). */
#define MF_HASH_BYTES 32
void mf_hash_to_bytes(const mf_hash_t *h, unsigned char out[MF_HASH_BYTES]);
void mf_hash_from_bytes(const unsigned char in[MF_HASH_BYTES], mf_hash_t *out);
/* The hash's first 16 hex digits as a number, never 0 (so 0 can mark an
 * empty slot): a key for tables that may confuse two hashes only in the
 * safe direction (coord_locality.c, blob_refs.c). */
uint64_t mf_hash_prefix64(const mf_hash_t *h);

/* XXH3-64 (libxxhash): the check on each chunk of a blob in transit, where a
 * SHA-256 would cost ten times more and prove nothing the name does not. */
uint64_t mf_checksum(const void *data, size_t n);

#endif

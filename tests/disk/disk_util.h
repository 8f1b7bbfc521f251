/* Disk tests: source files cut short or corrupt, and full disks under
 * OUTDIR and under the coordinator's --state. Audio is synthesized here
 * (libsndfile), nothing large is committed; the farm is the real programs
 * (tests/cluster/cluster_util.h). */
#ifndef DISK_UTIL_H
#define DISK_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_util.h"

#define DK_RATE 48000

/* A mono 16-bit tone of `seconds` at 48 kHz; sf_format: SF_FORMAT_WAV,
 * _AIFF, _W64, _RF64 or _FLAC (the subtype is chosen here). */
void dk_write_tone(const char *path, int sf_format, double seconds, double freq_hz);
/* The file's size in bytes (asserts it exists). */
int64_t dk_size(const char *path);
/* Cuts the file to `bytes`. */
void dk_truncate(const char *path, int64_t bytes);
/* Overwrites `n` bytes at `at` with garbage (a broken FLAC frame). */
void dk_scramble(const char *path, int64_t at, size_t n);
/* Writes `n` pseudo-random bytes: not audio, whatever its name says. */
void dk_write_garbage(const char *path, size_t n);

/* A session at 48 kHz named `name` whose tracks are the given names and
 * files (as the session writes them, relative to dir); track 0's fader at
 * gain_db (what a second render changes). */
void dk_write_session(const char *dir, const char *file, const char *name, int n,
                      const char *const *track_names, const char *const *files, double gain_db);

/* Every entry under dir (recursively), "a/b" per line, sorted; "" when
 * dir is missing. free() it. */
char *dk_list_tree(const char *dir);
/* Asserts dir holds nothing a failed render could have left: no staging
 * folder (.mixfarm-partial-*) and no entry beyond those in `expected`
 * (dk_list_tree's form). */
void dk_assert_tree(const char *dir, const char *expected);

#endif

/* The 32-bit float WAV that OUTDIR's mix and stems are: the bytes libsndfile
 * writes for it (no PEAK chunk), so that the client writes the file and
 * hashes it for manifest.json in one pass instead of writing it through
 * libsndfile and reading it back (tests/render/test_wavf.c compares the two
 * byte for byte). Little-endian hosts only: a big-endian one takes
 * libsndfile's path. */
#ifndef MF_WAVF_H
#define MF_WAVF_H

#include <stddef.h>
#include <stdint.h>

#define MF_WAVF_HEADER_MAX 96

/* Writes the header of a file of frames frames into out; returns its
 * length, or 0 when this form cannot hold it (more than a plain WAV's
 * 32-bit sizes allow: libsndfile then writes RF64; or not 1 or 2 channels;
 * or a big-endian host). */
size_t mf_wavf_header(uint8_t out[MF_WAVF_HEADER_MAX], int channels, int rate, int64_t frames);

#endif

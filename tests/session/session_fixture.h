/* The session tests' folder of made-up files: one per test program, made
 * under TMPDIR by group setup and removed by group teardown. */
#ifndef SESSION_FIXTURE_H
#define SESSION_FIXTURE_H

#include <stddef.h>

/* Makes the folder ($TMPDIR/<prefix>-XXXXXX); 0, or -1. */
int sfx_open(const char *prefix);
/* Removes it and all it holds; 0, or -1. */
int sfx_close(void);
const char *sfx_dir(void);
/* A 16-bit WAV at rel: amp * sin(0.01 i) per sample (amp 0: silence). */
void sfx_write_wav(const char *rel, int channels, int rate, int frames, float amp);
/* n bytes at rel. */
void sfx_write_file(const char *rel, const void *data, size_t n);

#endif

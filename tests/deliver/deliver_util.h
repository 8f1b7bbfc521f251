/* What the deliverables tests share: a temporary folder with synthesised
 * music, mixfarm render, JSON and file helpers, and ffmpeg/ffprobe as the
 * independent decoder and tag reader. */
#ifndef DELIVER_UTIL_H
#define DELIVER_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The test's folder (made by du_setup, removed by du_teardown). */
extern char du_dir[512];

int du_setup(void);
int du_teardown(void);
/* 1 when ffmpeg and ffprobe run (the tests that need them say when not). */
int du_have_ffmpeg(void);

/* Drum-like bursts on a tone bed (crest ~15 dB), 48 kHz, 24-bit WAV. */
void du_write_music(const char *name, int channels, double seconds, double amp, unsigned seed);
/* The same at another rate. */
void du_write_music_at(const char *name, int rate, int channels, double seconds, double amp,
                       unsigned seed);
/* A tiny PNG (4x4 RGB). */
void du_write_png(const char *name);
void du_write_text(const char *name, const char *text);
/* "DIR/rel" into buf. */
const char *du_path(char *buf, size_t n, const char *rel);

/* mixfarm render DIR/doc -o DIR/out --quiet; the exit code. */
int du_render(const char *doc, const char *out);
/* The same with --workers 2 and stderr into DIR/err (a relative name). */
int du_render_err(const char *doc, const char *out, const char *err);
json_t *du_load_json(const char *rel);
/* mixfarm diff DIR/old_out DIR/new_out --json: its report (exit 0). */
json_t *du_diff(const char *old_out, const char *new_out);
/* Fails unless every frame of the PCM file rel has left and right the same
 * integers (a mono record delivered as stereo). */
void du_assert_dual_mono(const char *rel);
/* The entry of qc.json (or manifest.json) "files" with this path; NULL if none. */
json_t *du_file_entry(json_t *doc, const char *path);

/* Decodes with ffmpeg to stereo float at the file's rate: *frames, malloc'd
 * interleaved samples (NULL when ffmpeg failed). */
float *du_ffmpeg_decode(const char *rel, int64_t *frames);
/* Integrated loudness and true peak (max over channels) of interleaved
 * stereo float at rate, by libebur128. */
void du_ebur128(const float *x, int64_t frames, int rate, double *lufs, double *tp_dbtp);
/* ffprobe -show_format -show_streams -of json. */
json_t *du_ffprobe(const char *rel);
/* A tag of the format or of any stream, case-insensitive; NULL if absent. */
const char *du_tag(const json_t *probe, const char *key);
/* The bytes of a file (malloc'd), *len its size; NULL when unreadable. */
unsigned char *du_read_file(const char *rel, size_t *len);
/* SHA-256 hex of a file, into hex[65]. */
int du_sha256(const char *rel, char hex[65]);

#endif

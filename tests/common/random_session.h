/* Random sessions for property tests (random_session.c). */
#ifndef RANDOM_SESSION_H
#define RANDOM_SESSION_H

#include <jansson.h>
#include <stdint.h>

/* Starts the generator from seed (0: keeps the fixed one). */
void rs_seed(uint64_t seed);
/* Starts it from $MF_RANDOM_SEED plus offset (each test its own
 * sessions), else from dflt. */
void rs_seed_env(uint64_t offset, uint64_t dflt);
/* How many to make: the variable's count (MF_RANDOM_SESSIONS...), else
 * dflt (CI's): how a test explores further than CI does. */
int rs_count(const char *var, int dflt);
/* The next session: its sources written into dir (as t0.wav, t1.wav...),
 * the document returned (the caller writes it, and frees it). */
json_t *rs_session(const char *dir);
/* The next album (SESSION.md): one to four songs, each a random session
 * in a folder of its own (songK/s.json) or a finished mix file (mixK.wav
 * or .flac, now and then mono), with gaps, cross-fades, titles and mono
 * flags, album or track mastering to a random target, deliverables in
 * every format, a CUE sheet or not; written into dir, the document
 * returned. */
json_t *rs_album(const char *dir);
/* A revision: one number of the session (a parameter, a level, a time, a
 * breakpoint) moved a little, chosen at random; what moved is said in
 * what (a path such as tracks[1].inserts[0].ratio). The result may not
 * validate (a pan past 1): the caller then asks for another. */
void rs_revise(json_t *session, char *what, size_t n);
/* Every file's SHA-256 in OUTDIR's manifest.json by path, render.json
 * apart (it says how the job ran); fails the test without one. */
json_t *rs_outdir_hashes(const char *outdir);

#endif

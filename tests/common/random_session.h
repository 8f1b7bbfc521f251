/* Random sessions for property tests (random_session.c). */
#ifndef RANDOM_SESSION_H
#define RANDOM_SESSION_H

#include <jansson.h>
#include <stdint.h>

/* Starts the generator from seed (0: keeps the fixed one). */
void rs_seed(uint64_t seed);
/* The next session: its sources written into dir (as t0.wav, t1.wav...),
 * the document returned (the caller writes it, and frees it). */
json_t *rs_session(const char *dir);

#endif

/* The session the scheduler tests plan: two buses of two tracks, with
 * every file a mono 48 kHz second, as a client would have sent it (no
 * audio is read). */
#ifndef MF_TEST_PLAN_FIXTURE_H
#define MF_TEST_PLAN_FIXTURE_H

#include "mf_session.h"

#define PF_TWO_BUSES                                                                               \
    "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": ["                                       \
    " {\"name\": \"A1\", \"file\": \"/a1.wav\", \"output\": \"BusA\"},"                            \
    " {\"name\": \"A2\", \"file\": \"/a2.wav\", \"output\": \"BusA\"},"                            \
    " {\"name\": \"B1\", \"file\": \"/b1.wav\", \"output\": \"BusB\"},"                            \
    " {\"name\": \"B2\", \"file\": \"/b2.wav\", \"output\": \"BusB\"}],"                           \
    " \"buses\": [{\"name\": \"BusA\"}, {\"name\": \"BusB\"}]}"

static inline int pf_mono_second(void *ctx, const char *file, int *channels, int *rate,
                                 int64_t *frames, char *why, size_t why_size)
{
    (void)ctx, (void)file, (void)why, (void)why_size;
    *channels = 1, *rate = 48000, *frames = 48000;
    return 0;
}

/* PF_TWO_BUSES loaded under name; NULL (its problems printed) when it fails. */
static inline mf_session_t *pf_two_buses(const char *name)
{
    mf_diags_t d;
    mf_diags_init(&d, name);
    mf_session_source_t src = {.audio = pf_mono_second};
    mf_session_t *s = mf_session_load_text(name, PF_TWO_BUSES, &src, &d);
    if (!s) mf_diags_print(&d);
    mf_diags_fini(&d);
    return s;
}

#endif

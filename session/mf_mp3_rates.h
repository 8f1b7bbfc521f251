/* What an MP3 can be (ISO 11172-3 and 13818-3; MPEG 2.5 is LAME's
 * extension): its sample rates, the MPEG version each makes, and the
 * bitrates that version allows. Validation refuses what the encoder would
 * change (LAME turns 320 kbps at 8 kHz into 64, and the manifest said
 * 320); the planner picks the rate and the default bitrate from them. */
#ifndef MF_MP3_RATES_H
#define MF_MP3_RATES_H

#include <stddef.h>

/* The MP3 rate a master at rate is encoded at: rate itself when MPEG has
 * it, else 44100 (a rate of its family) or 48000. */
int mf_mp3_rate(int rate);
/* The bitrates (kbps, rising) an MP3 at rate (an MPEG rate) allows, their
 * count in *n, and the version's name ("MPEG 1") in *version. */
const int *mf_mp3_kbps(int rate, size_t *n, const char **version);
/* The highest of them: 320, 160 or 64. */
int mf_mp3_max_kbps(int rate);

#endif

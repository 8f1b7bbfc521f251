/* Every limit a session or album document is held to, in one place.
 *
 * session/ enforces them while validating (each violation is an error that
 * names the key and the limit, so the command exits 2 and writes nothing);
 * the coordinator validates submitted documents with the same code, and
 * proto/ bounds task parameters with the same numbers, so neither a client
 * nor a coordinator can make a worker allocate from an unchecked count.
 * docs/security.md lists them with their reasons; change both together.
 *
 * Limits owned by a processor stay in its table in dsp/, where the state
 * they size is: bands per insert (cls->max_bands: eq 16, multiband 6), items
 * of a list parameter (crossovers: 5) and the length of an auxiliary input
 * (cls->aux->max_seconds: a reverb's impulse response, 30 s). The session
 * validator checks those through the class. */
#ifndef MF_LIMITS_H
#define MF_LIMITS_H

/* A document's text (session, album, nested session), local or submitted.
 * The biggest real sessions are a few hundred KiB; the parsed tree costs
 * many times the text, and the coordinator holds one per job. */
#define MF_LIMIT_DOC_BYTES (8u << 20)

/* Tracks of one session: big film and orchestral sessions reach 128-256;
 * room to spare, and it bounds the quadratic name checks. */
#define MF_LIMIT_TRACKS 1024
/* Buses of one session: real sessions have tens. */
#define MF_LIMIT_BUSES 256
/* Sends of one channel: a console has 8-16 aux sends. */
#define MF_LIMIT_SENDS 64
/* Inserts of one channel, and of mastering.inserts: a DAW slot rack has
 * 10-16; every insert is an instance (and memory) in the channel task. */
#define MF_LIMIT_INSERTS 64
/* Stems: each is a file; never more than the tracks and buses there are. */
#define MF_LIMIT_STEMS (MF_LIMIT_TRACKS + MF_LIMIT_BUSES)
/* Deliverables in "outputs": each is an encode task and a QC pass; real
 * sessions have 2-6. */
#define MF_LIMIT_OUTPUTS 32

/* Automated parameters (lanes) of one channel: each is an envelope in the
 * worker; a heavily automated channel has a few dozen. */
#define MF_LIMIT_AUTO_LANES 256
/* Points of one channel's automation, all its lanes together: they travel
 * in the channel's one task message, which must fit a frame (1 MiB + 64
 * KiB); a point takes at most ~45 bytes there, so 16,384 take ~720 KiB and
 * leave room for the inserts and inputs. One lane may use them all: a point
 * every 18 ms over five minutes, denser than any thinned written
 * automation. */
#define MF_LIMIT_AUTO_POINTS 16384
/* Points of the whole session: bounds the model and the planner's work
 * (16 channels with their full budget). */
#define MF_LIMIT_AUTO_POINTS_TOTAL 262144

/* Largest position on the timeline (start_s, trim, automation times, the
 * end of a region, the length of any audio file, an album's songs and gaps
 * together): a day, so that no later stage is asked for an absurd amount
 * of audio. */
#define MF_LIMIT_TIME_S 86400.0

/* Sample rates, of the session and of every audio file it names: telephone
 * quality to 8x 48 kHz (DXD is 352.8 kHz). Outside this range resampling
 * ratios and buffer sizes stop being sensible. */
#define MF_LIMIT_RATE_MIN 8000
#define MF_LIMIT_RATE_MAX 384000

/* Tracks of an album: numbered with up to three digits (a CD holds 99). */
#define MF_LIMIT_ALBUM_TRACKS 999

/* Strings, in bytes (UTF-8). A name becomes part of a file name
 * (stems/<name>.wav, master/<title> 24-96000.flac) that must stay under
 * NAME_MAX (255): track and bus names, the session's name, an output's
 * name, metadata.title. */
#define MF_LIMIT_NAME_BYTES 200
/* Other metadata text (artist, comment...): written into tags and CUE
 * sheets, whose task parameters carry at most 1024 bytes. */
#define MF_LIMIT_TEXT_BYTES 1024
/* Any other string: file paths (PATH_MAX is 4096), references. */
#define MF_LIMIT_STRING_BYTES 4096

#endif

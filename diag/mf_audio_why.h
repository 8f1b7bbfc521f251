/* Why an audio file could not be opened, said so that someone can act on
 * it. libsndfile reads WAV, AIFF, FLAC, CAF, Ogg and MP3, and says "Format
 * not recognised" of everything else, including the formats a studio is
 * most often handed: an M4A from a phone or iTunes (AAC or ALAC), a DSD
 * master, a Windows Media file, a video's soundtrack.
 *
 *   char why[256];
 *   if (mf_audio_why(path, sf_strerror(NULL), why, sizeof why))
 *       // what the file is, a whole sentence: "an M4A file (AAC or ALAC),
 *       // which is not read here: convert it to WAV or FLAC, e.g. with
 *       // ffmpeg -i IN OUT.wav", "an empty file", or "cannot be read:
 *       // Input/output error" (the file, not its format: a drive gone)
 *   else
 *       // libsndfile's reason without its "Error : " and full stop
 */
#ifndef MF_AUDIO_WHY_H
#define MF_AUDIO_WHY_H

#include <stddef.h>

int mf_audio_why(const char *path, const char *sf_reason, char *out, size_t n);

#endif

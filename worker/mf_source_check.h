/* Is a source audio file whole? libsndfile clamps a WAV's or AIFF's frame
 * count to the bytes that are really there, so a truncated file would
 * otherwise decode, silently, as a shorter one. This reads the chunk
 * headers of WAV (RIFF, RF64), Wave64 and AIFF/AIFC files and compares the
 * audio data their header declares with what the file holds. Other formats
 * (FLAC...) state no byte count: their decoder stops short instead, which
 * the decode task reports the same way. Used by the decode task (on the
 * blob) and by the client (on the file, before any upload). */
#ifndef MF_SOURCE_CHECK_H
#define MF_SOURCE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <sndfile.h>

/* 1 when the file at path holds less audio than its header declares, with
 * why set to "header says 20.000 s, data holds 7.300 s"; 0 when it is whole
 * or its format declares no length this can check; -1 when it cannot be
 * read (errno set). info: what sf_open said of the same file. */
int mf_source_truncated(const char *path, const SF_INFO *info, char *why, size_t why_size);

/* The speaker of each channel of a WAV, RF64 or Wave64 file in
 * WAVE_FORMAT_EXTENSIBLE: its dwChannelMask (bit 0 front left, 1 front
 * right, 2 centre, 3 LFE, 4-5 back, 9-10 side...; the channels in bit
 * order). 0 for a file that has none (a plain WAV, AIFF, FLAC...) or that
 * cannot be read. libsndfile's SFC_GET_CHANNEL_MAP_INFO does not return it. */
uint32_t mf_source_channel_mask(const char *path);

/* "header says X s, data holds Y s", the words every such error uses. */
void mf_source_short_words(char *why, size_t why_size, double header_s, double data_s);

#endif

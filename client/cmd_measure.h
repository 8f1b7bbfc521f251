/* Measuring an audio file for a comparison (mixfarm compare, mixfarm qc
 * --reference): the QC analysis and the loudest-passage spectrum of a file
 * libsndfile reads, in one pass. */
#ifndef CMD_MEASURE_H
#define CMD_MEASURE_H

#include "mf_compare.h"

/* MF_EXIT_OK with *out filled (mf_measure_fini), else the exit code after
 * one line on stderr naming the file: MF_EXIT_USAGE when it is missing,
 * unreadable, not of 1 to 16 channels at 8 to 768 kHz or of no known
 * speakers (cmd_layout.h), MF_EXIT_FAILED when
 * out of memory. A surround file is laid out as `qc` lays it out
 * (cmd_layout.h): its loudness every channel's, its spectra and width the
 * front pair's. */
int mf_cli_measure(const char *path, mf_measure_t *out);

#endif

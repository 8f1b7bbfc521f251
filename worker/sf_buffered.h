/* libsndfile reading a file through a stdio buffer of our own size:
 * libsndfile reads 3 KiB at a time, and straight from a file each of those
 * is a system call (184,000 of them for sixteen 4-minute 24-bit tracks).
 * Through its virtual I/O and a 256 KiB buffer, one in 85. */
#ifndef SF_BUFFERED_H
#define SF_BUFFERED_H

#include <sndfile.h>

typedef struct mf_sf_buffered mf_sf_buffered_t;

/* Opens path for reading as sf_open(path, SFM_READ, info) does; NULL with
 * sf_strerror(NULL) saying why (or errno set when the file cannot be
 * opened). *io is what the handle reads through: close both with
 * mf_sf_buffered_close. */
SNDFILE *mf_sf_buffered_open(const char *path, SF_INFO *info, mf_sf_buffered_t **io);
void mf_sf_buffered_close(SNDFILE *sf, mf_sf_buffered_t **io);

#endif

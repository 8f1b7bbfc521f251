/* An album's summary in its QC report: the songs side by side, as
 * delivered in the album's first format (each song's first file), with how
 * far apart their loudness is. qc.json's "album" and a section of qc.html. */
#ifndef MF_QC_ALBUM_H
#define MF_QC_ALBUM_H

#include "mf_qc_report.h"

#include <jansson.h>
#include <stdio.h>

/* song[i]: 1 + the album track files[i] delivers, 0 when it is not a song
 * (the album image); mode 1 album, 2 track, 3 not mastered. NULL when out
 * of memory. */
json_t *mf_qc_album_json(const mf_qc_file_t *files, const int *song, size_t n, int mode);
/* The section of qc.html from that document. MF_ERR_IO when out cannot be
 * written. */
mf_err_t mf_qc_album_html(FILE *out, const json_t *album);

#endif

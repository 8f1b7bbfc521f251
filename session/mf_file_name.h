/* A file name made from a name in a session (a title, a bus): what the
 * coordinator names deliverables and stems with, and what `mixfarm diff`
 * looks for. */
#ifndef MF_FILE_NAME_H
#define MF_FILE_NAME_H

/* Cleans name in place into one that every system a studio delivers to
 * takes: no folder separators (/ \), none of the characters Windows
 * refuses (< > : " | ? *), no control characters (each becomes _), no
 * hidden file (a leading . becomes _), and no trailing dot or space. */
void mf_file_name_clean(char *name);
/* Whether two file names are one file on a disk that ignores case and
 * Unicode form (macOS, Windows, the exFAT of a USB drive): equal once both
 * are case-folded and normalized (libunistring). */
int mf_file_name_same(const char *a, const char *b);

#endif

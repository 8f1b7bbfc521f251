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

#endif

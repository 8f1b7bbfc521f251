/* What the HTML reports (qc.html, the comparison, the playback systems)
 * share: text escaped for HTML, and numbers as every report shows them. */
#ifndef MF_HTML_H
#define MF_HTML_H

#include <stdio.h>

/* s with <, >, & and " escaped. */
void mf_html_esc(FILE *f, const char *s);
/* x in fmt (e.g. "%.1f LUFS"); NAN as a dash, infinities as signs. */
void mf_html_num(FILE *f, double x, const char *fmt);

#endif

#include "mf_html.h"

#include <math.h>

void mf_html_esc(FILE *f, const char *s)
{
    for (; *s; s++) switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
}

void mf_html_num(FILE *f, double x, const char *fmt)
{
    if (isnan(x))
        fputs("&ndash;", f);
    else if (isinf(x))
        fputs(x < 0 ? "&minus;&infin;" : "&infin;", f);
    else
        fprintf(f, fmt, x);
}

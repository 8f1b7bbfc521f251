/* An album image's timings, read for its QC: the red_book check (target
 * cd), what a CD pressing plant refuses (IEC 60908, "Red Book": a lossless
 * image is 16-bit / 44.1 kHz; at most 99 tracks; each at least 4 s; the
 * disc at most 79:57; track 1 after a pre-gap of at least 2 s; every index
 * on a CD frame, 1/75 s), and the pauses the sequence made (any target). */
#include "deliver_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define MAX_TRACKS 99
#define MIN_TRACK_S 4.0
#define MAX_DISC_S (79 * 60 + 57)
#define MIN_PREGAP_S 2.0

__attribute__((format(printf, 3, 4))) static void s_add(mf_qc_problems_t *p, double at_s,
                                                        const char *fmt, ...)
{
    if (p->count >= MF_QC_MAX_PROBLEMS) return;
    mf_qc_problem_t *it = &p->items[p->count++];
    it->check = "red_book";
    it->at_s = at_s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
}

static json_int_t s_int(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

void mf_qc_red_book(const json_t *tm, int lossless, int rate, int bits, mf_qc_problems_t *p)
{
    const json_t *tracks = json_object_get(tm, "tracks");
    const double r = (double)s_int(tm, "rate");
    const json_int_t frame = s_int(tm, "frame"), total = s_int(tm, "frames");
    size_t n = json_array_size(tracks);
    if (r <= 0 || frame <= 0 || n == 0) {
        s_add(p, NAN, "the album's timings are missing");
        return;
    }
    if (lossless && (rate != 44100 || bits != 16))
        s_add(p, NAN, "a CD image is 16-bit / 44100 Hz, not %d-bit / %d Hz", bits, rate);
    if (n > MAX_TRACKS) s_add(p, NAN, "%zu tracks: a CD holds at most %d", n, MAX_TRACKS);
    if ((double)total / r > MAX_DISC_S)
        s_add(p, NAN, "%.1f s long: a CD holds at most 79:57", (double)total / r);
    json_int_t first = s_int(json_array_get(tracks, 0), "index01");
    if ((double)first / r < MIN_PREGAP_S - 1e-9)
        s_add(p, 0.0, "track 1 starts after a %.2f s pre-gap; a CD's is at least 2 s",
              (double)first / r);
    for (size_t k = 0; k < n; k++) {
        const json_t *t = json_array_get(tracks, k);
        json_int_t i00 = s_int(t, "index00"), i01 = s_int(t, "index01");
        json_int_t next = k + 1 < n ? s_int(json_array_get(tracks, k + 1), "index00") : total;
        if ((double)(next - i01) / r < MIN_TRACK_S)
            s_add(p, (double)i01 / r, "track %zu is %.2f s long; a CD track is at least 4 s", k + 1,
                  (double)(next - i01) / r);
        if (i00 % frame || i01 % frame)
            s_add(p, (double)i01 / r, "track %zu does not start on a CD frame (1/75 s)", k + 1);
    }
}

size_t mf_qc_album_pauses(const json_t *tm, mf_qc_span_t *out, size_t max)
{
    const json_t *tracks = json_object_get(tm, "tracks");
    const double r = (double)s_int(tm, "rate");
    size_t n = 0;
    for (size_t k = 0; r > 0 && k < json_array_size(tracks) && n < max; k++) {
        const json_t *t = json_array_get(tracks, k);
        const json_int_t i00 = s_int(t, "index00"), i01 = s_int(t, "index01");
        if (i01 > i00 && i00 >= 0)
            out[n++] = (mf_qc_span_t){(double)i00 / r, (double)(i01 - i00) / r};
    }
    return n;
}

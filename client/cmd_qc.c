/* mixfarm qc FILE... [--target PRESET] [--reference REF] [--json] [--mono]
 * [-o REPORT.html]: measures audio files (anything libsndfile reads) and
 * checks them against a delivery target; prints a summary or qc.json,
 * writes qc.html. With --reference each file is also compared with a
 * reference track (as mixfarm compare does): its entry's "reference" and a
 * section of the report. The comparison informs; it fails no check. */
#include "cmd_layout.h"
#include "cmd_measure.h"
#include "mf_audio_why.h"
#include "mf_cli.h"
#include "mf_source_check.h"
#include "mf_qc.h"
#include "mf_qc_report.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *path;
    char desc[96];   /* "48000 Hz, stereo, 24-bit WAV" */
    char layout[40]; /* "5.1", "7.1.4" for a surround file; "" for mono and stereo */
    mf_measure_t m;  /* the analysis, and the spectrum when compared */
    json_t *cmp;     /* the comparison with --reference, or NULL */
    mf_qc_format_t fmt;
    mf_qc_problems_t probs;
} qc_item_t;

static void s_help(FILE *out)
{
    size_t n;
    const mf_qc_target_t *p = mf_qc_presets(&n);
    fprintf(out, "usage: mixfarm qc FILE... [--target PRESET] [--reference REF] [--json]\n"
                 "                  [--mono] [-o REPORT.html]\n\n"
                 "Measures each file (WAV, AIFF, FLAC, Ogg, MP3: anything libsndfile reads; mono,\n"
                 "stereo or surround up to 16 channels) and checks it for delivery: integrated\n"
                 "loudness, loudness range and true peak per ITU-R BS.1770-4 / EBU R 128,\n"
                 "clipping, DC offset, silence at the head, tail or inside, phase, mono delivered\n"
                 "as stereo, length and format. Surround channels weigh +1.5 dB in the loudness\n"
                 "and the LFE none, by the speakers a WAV's channel mask or a CAF or AIFF channel\n"
                 "layout names, else by the WAV order (5.1: L R C LFE Ls Rs; 10 and 12 channels\n"
                 "are 5.1.4 and 7.1.4); other orders (Ogg's, a film-order CAF's) are put in it;\n"
                 "phase and the spectrum are the front L/R pair's.\n\n"
                 "options:\n"
                 "  -t, --target T      a preset, or LUFS,DBTP for your own (e.g. -16,-1);\n"
                 "                      default none: true peak <= -1 dBTP, no loudness check\n"
                 "  -r, --reference REF also compare each file with a reference track, as\n"
                 "                      mixfarm compare does (loudness, LRA, true peak, PLR,\n"
                 "                      crest, width per band, third-octave spectrum); it\n"
                 "                      fails no check\n"
                 "      --mono          the files are mono records delivered as stereo on\n"
                 "                      purpose (identical channels): not mono_as_stereo\n"
                 "      --json          print qc.json on stdout instead of the summary\n"
                 "  -o, --output FILE   also write the report as self-contained HTML (plots)\n"
                 "  -h, --help          this text\n\npresets:\n");
    for (size_t i = 0; i < n; i++) {
        if (isnan(p[i].lufs))
            fprintf(out, "  %-10s no loudness target, true peak <= %.1f dBTP\n", p[i].name,
                    p[i].true_peak_dbtp);
        else
            fprintf(out, "  %-10s %5.1f LUFS +-%.1f LU, true peak <= %.1f dBTP\n", p[i].name,
                    p[i].lufs, MF_QC_LOUDNESS_TOL_LU, p[i].true_peak_dbtp);
    }
    fprintf(out, "\nexamples:\n"
                 "  mixfarm qc master.wav --target streaming\n"
                 "  mixfarm qc out/master/*.flac --target ebu-r128 -o qc.html\n"
                 "  mixfarm qc mix.wav --json | jq .files[0].integrated_lufs\n"
                 "  mixfarm qc master.wav -r ref.wav --json | jq .files[0].reference.bands\n\n"
                 "exit codes: 0 every check passed, 1 a check failed,\n"
                 "            2 bad usage or an unreadable file\n");
}

/* A preset name or "LUFS,DBTP". */
static int s_target(const char *s, mf_qc_target_t *t)
{
    const mf_qc_target_t *p = mf_qc_preset(s);
    if (p) {
        *t = *p;
        return 0;
    }
    char *end;
    const double lufs = strtod(s, &end);
    if (end == s || *end != ',') return -1;
    const char *tp = end + 1;
    const double dbtp = strtod(tp, &end);
    if (end == tp || *end || !(lufs >= -70 && lufs <= 0) || !(dbtp >= -20 && dbtp <= 0)) return -1;
    *t = (mf_qc_target_t){"custom", lufs, dbtp};
    return 0;
}

static void s_format(const SF_INFO *si, const char *layout, qc_item_t *it)
{
    const int sub = si->format & SF_FORMAT_SUBMASK;
    int bits = 0, lossless = 1;
    switch (sub) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
        bits = 8;
        break;
    case SF_FORMAT_PCM_16:
        bits = 16;
        break;
    case SF_FORMAT_PCM_24:
        bits = 24;
        break;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
        bits = 32;
        break;
    case SF_FORMAT_DOUBLE:
        bits = 64;
        break;
    default:
        lossless = 0; /* ADPCM, GSM, Vorbis, Opus, MPEG... */
    }
    it->fmt = (mf_qc_format_t){
        .rate = si->samplerate, .bits = bits, .lossless = lossless, .mono = it->fmt.mono};
    /* The container by its usual extension, upper case ("WAV", "FLAC"); an
     * Ogg file by its codec (libsndfile's extension for both is "oga"). */
    SF_FORMAT_INFO fi = {.format = si->format & SF_FORMAT_TYPEMASK};
    char major[24];
    snprintf(major, sizeof major, "%s",
             sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.extension
                 ? fi.extension
                 : "audio");
    for (char *c = major; *c; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    if ((si->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_OGG)
        snprintf(major, sizeof major, "%s",
                 sub == SF_FORMAT_OPUS     ? "Ogg Opus"
                 : sub == SF_FORMAT_VORBIS ? "Ogg Vorbis"
                                           : "Ogg");
    char kind[24];
    if (sub == SF_FORMAT_ULAW || sub == SF_FORMAT_ALAW) /* 8 bits, companded: not linear PCM */
        snprintf(kind, sizeof kind, "%s", sub == SF_FORMAT_ULAW ? "u-law" : "A-law");
    else if (bits)
        snprintf(kind, sizeof kind, "%d-bit%s", bits,
                 sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE ? " float" : "");
    else
        snprintf(kind, sizeof kind, "lossy");
    snprintf(it->desc, sizeof it->desc, "%d Hz, %s, %s %s", si->samplerate, layout, kind, major);
}

/* Reads and measures one file (with its loudest-passage spectrum when
 * spectrum is set); prints why and returns 2 when it cannot. */
static int s_analyse(qc_item_t *it, const mf_qc_target_t *t, int spectrum)
{
    SF_INFO si = {0};
    struct stat st;
    if (stat(it->path, &st) != 0) {
        fprintf(stderr, "mixfarm: %s: %s\n", it->path,
                errno == ENOENT ? "no such file" : strerror(errno));
        return MF_EXIT_USAGE;
    }
    SNDFILE *sf = sf_open(it->path, SFM_READ, &si);
    if (!sf) {
        char why[256];
        mf_audio_why(it->path, sf_strerror(NULL), why, sizeof why);
        fprintf(stderr, "mixfarm: %s: cannot read: %s\n", it->path, why);
        return MF_EXIT_USAGE;
    }
    if (si.channels < 1 || si.channels > MF_QC_MAX_CHANNELS) {
        fprintf(stderr, "mixfarm: %s: %d channels: qc measures files of 1 to %d (mono to 9.1.6)\n",
                it->path, si.channels, MF_QC_MAX_CHANNELS);
        sf_close(sf);
        return MF_EXIT_USAGE;
    }
    mf_cli_layout_t layout;
    if (mf_cli_layout(it->path, sf, &si, &layout) < 0) {
        sf_close(sf);
        return MF_EXIT_USAGE;
    }
    s_format(&si, layout.name, it);
    if (si.channels > 2) snprintf(it->layout, sizeof it->layout, "%s", layout.name);
    enum { BLOCK = 4096 };
    float *buf = malloc(BLOCK * (size_t)si.channels * sizeof *buf);
    mf_analyzer_t *an = mf_analyzer_new(si.channels, si.samplerate, MF_ANALYZE_ALL);
    mf_ltas_t *lt = spectrum ? mf_ltas_new(si.channels, si.samplerate) : NULL;
    int rc = MF_EXIT_OK;
    if (an) mf_analyzer_set_weights(an, layout.weight);
    if (!buf || !an || (spectrum && !lt)) {
        const int bad_rate = si.samplerate < 8000 || si.samplerate > 768000;
        if (bad_rate)
            fprintf(stderr, "mixfarm: %s: sample rate %d Hz is outside 8 kHz .. 768 kHz\n",
                    it->path, si.samplerate);
        else
            fprintf(stderr, "mixfarm: %s: out of memory\n", it->path);
        rc = bad_rate ? MF_EXIT_USAGE : MF_EXIT_FAILED;
        goto done;
    }
    sf_count_t got, read = 0, bad = 0, first_bad = -1;
    const int sub = si.format & SF_FORMAT_SUBMASK;
    const int floats = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE;
    while ((got = sf_readf_float(sf, buf, BLOCK)) > 0) {
        mf_cli_layout_apply(&layout, buf, (size_t)got);
        /* A float file can hold samples that are not numbers: counted,
         * and measured as silence (one NaN would make every measure NaN).
         * PCM cannot; one pass without a branch, then where. */
        int finite = 1;
        for (sf_count_t i = 0; floats && i < got * si.channels; i++)
            finite &= isfinite(buf[i]) != 0;
        for (sf_count_t i = 0; !finite && i < got * si.channels; i++) {
            if (isfinite(buf[i])) continue;
            if (!bad++) first_bad = read + i / si.channels;
            buf[i] = 0.0f;
        }
        read += got;
        if (lt) mf_ltas_feed(lt, buf, (size_t)got);
        if (mf_analyzer_feed(an, buf, (size_t)got)) {
            fprintf(stderr, "mixfarm: %s: out of memory\n", it->path);
            rc = MF_EXIT_FAILED;
            goto done;
        }
    }
    if (sf_error(sf)) {
        fprintf(stderr, "mixfarm: %s: read error: %s\n", it->path, sf_strerror(sf));
        rc = MF_EXIT_USAGE;
        goto done;
    }
    if (lt) mf_ltas_finish(lt, &it->m.l);
    if (mf_analyzer_finish(an, &it->m.a)) {
        fprintf(stderr, "mixfarm: %s: out of memory\n", it->path);
        rc = MF_EXIT_FAILED;
        goto done;
    }
    mf_qc_check(&it->m.a, t, &it->fmt, &it->probs);
    /* libsndfile reads a WAV or AIFF cut short (a copy or a download that
     * stopped) as a shorter file: its header tells. */
    char why[160];
    if (mf_source_truncated(it->path, &si, why, sizeof why) == 1)
        mf_qc_add(&it->probs, "truncated", NAN, "the file is cut short: %s", why);
    if (bad)
        mf_qc_add(&it->probs, "not_a_number", (double)first_bad / si.samplerate,
                  "%lld samples are not numbers (NaN or infinite), the first at %.3f s: the file "
                  "is damaged (measured as if they were silence)",
                  (long long)bad, (double)first_bad / si.samplerate);
done:
    mf_ltas_free(&lt);
    mf_analyzer_free(&an);
    free(buf);
    sf_close(sf);
    return rc;
}

static void s_db(char *b, size_t n, double x, const char *fmt)
{
    if (isnan(x))
        snprintf(b, n, "-");
    else if (isinf(x))
        snprintf(b, n, "%sinf", x < 0 ? "-" : "");
    else
        snprintf(b, n, fmt, fabs(x) < 0.005 ? 0.0 : x); /* no "-0.00" */
}

static void s_summary(const qc_item_t *it)
{
    const mf_analysis_t *a = &it->m.a;
    char t[32], v[6][24];
    printf("%s: %s, %s\n", it->path, it->desc, mf_qc_time(a->duration_s, t, sizeof t));
    s_db(v[0], 24, a->integrated_lufs, "%.1f"), s_db(v[1], 24, a->lra_lu, "%.1f");
    s_db(v[2], 24, a->momentary_max_lufs, "%.1f"), s_db(v[3], 24, a->short_term_max_lufs, "%.1f");
    printf("  loudness  %s LUFS integrated, LRA %s LU, max momentary %s, max short-term %s\n", v[0],
           v[1], v[2], v[3]);
    s_db(v[0], 24, a->true_peak_dbtp, "%.2f"), s_db(v[1], 24, a->sample_peak_dbfs, "%.2f");
    s_db(v[2], 24, a->plr_db, "%.1f"), s_db(v[3], 24, a->crest_db, "%.1f");
    printf("  peaks     true peak %s dBTP, sample peak %s dBFS, PLR %s dB, crest %s dB\n", v[0],
           v[1], v[2], v[3]);
    if (a->channels >= 2) {
        s_db(v[0], 24, a->mono_drop_db, "%+.1f");
        printf("  %s correlation %.2f, mono sum %s dB\n",
               a->channels == 2 ? "stereo   " : "L/R pair ", a->correlation, v[0]);
    }
    if (a->channels > 2) {
        printf("  weights  ");
        for (int c = 0; c < a->channels; c++) printf(" %.2f", a->loudness_weight[c]);
        printf(" (BS.1770 loudness, channel by channel)\n");
    }
    s_db(v[0], 24, a->dc_offset_db, "%.1f");
    printf("  other     DC offset %s dB, %lld clipped samples, silence head %.2f s / tail %.2f s\n",
           v[0], (long long)a->clipped_samples, a->head_silence_s, a->tail_silence_s);
    if (!it->probs.count) printf("  pass\n");
    for (size_t i = 0; i < it->probs.count; i++)
        printf("  FAIL %s: %s\n", it->probs.items[i].check, it->probs.items[i].message);
}

/* Measures every file (and compares it with the reference when there is
 * one); the exit code of the first that cannot be measured. */
static int s_measure_all(qc_item_t *items, mf_qc_file_t *files, int n, const mf_qc_target_t *t,
                         const char *ref, const mf_measure_t *refm)
{
    for (int i = 0; i < n; i++) {
        qc_item_t *it = &items[i];
        const int rc = s_analyse(it, t, ref != NULL);
        if (rc) return rc;
        if (ref && !(it->cmp = mf_compare_json(it->path, ref, &it->m, refm))) {
            fprintf(stderr, "mixfarm: %s: out of memory\n", it->path);
            return MF_EXIT_FAILED;
        }
        files[i] = (mf_qc_file_t){it->path, &it->m.a, &it->probs, it->cmp,
                                  it->layout[0] ? it->layout : NULL};
    }
    return MF_EXIT_OK;
}

static int s_print_json(const mf_qc_target_t *t, const mf_qc_file_t *files, int n)
{
    json_t *doc = mf_qc_report_json(t, files, (size_t)n);
    const int bad = !doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (bad) {
        fprintf(stderr, "mixfarm: qc: cannot write the JSON report\n");
        return MF_EXIT_FAILED;
    }
    putchar('\n');
    return MF_EXIT_OK;
}

static void s_print_summaries(const qc_item_t *items, int n, const char *ref,
                              const mf_measure_t *refm)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        s_summary(&items[i]);
        if (ref) mf_compare_print(stdout, items[i].path, ref, &items[i].m, refm);
        failed += items[i].probs.count > 0;
    }
    if (n > 1) printf("%d files, %d failed\n", n, failed);
}

/* The options; -1 to go on, else the exit code. */
static int s_options(int argc, char **argv, mf_qc_target_t *target, const char **ref,
                     const char **html, int *json, int *mono)
{
    static const struct option longs[] = {{"target", required_argument, 0, 't'},
                                          {"json", no_argument, 0, 'j'},
                                          {"output", required_argument, 0, 'o'},
                                          {"reference", required_argument, 0, 'r'},
                                          {"mono", no_argument, 0, 'm'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:r:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 't':
            if (s_target(optarg, target)) {
                fprintf(stderr,
                        "mixfarm: qc: --target: not a preset or LUFS,DBTP: %s "
                        "(mixfarm qc --help lists the presets)\n",
                        optarg);
                return MF_EXIT_USAGE;
            }
            break;
        case 'j':
            *json = 1;
            break;
        case 'm':
            *mono = 1;
            break;
        case 'o':
            *html = optarg;
            break;
        case 'r':
            *ref = optarg;
            break;
        case 'h':
            s_help(stdout);
            return MF_EXIT_OK;
        default:
            s_help(stderr);
            return MF_EXIT_USAGE;
        }
    }
    if (optind < argc) return -1;
    fprintf(stderr, "mixfarm: qc: which files? (mixfarm qc FILE... --help)\n");
    return MF_EXIT_USAGE;
}

int mf_cmd_qc(int argc, char **argv)
{
    mf_qc_target_t target = *mf_qc_preset("none");
    const char *html = NULL, *ref = NULL;
    int json = 0, mono = 0, rc = s_options(argc, argv, &target, &ref, &html, &json, &mono);
    if (rc >= 0) return rc;
    rc = MF_EXIT_OK;
    const int n = argc - optind;
    mf_measure_t refm; /* the reference first: a bad one is a usage error before any work */
    if (ref && (rc = mf_cli_measure(ref, &refm))) return rc;
    qc_item_t *items = calloc((size_t)n, sizeof *items);
    mf_qc_file_t *files = calloc((size_t)n, sizeof *files);
    if (!items || !files) {
        fprintf(stderr, "mixfarm: qc: out of memory\n");
        rc = MF_EXIT_FAILED;
    }
    for (int i = 0; items && i < n; i++) items[i].path = argv[optind + i], items[i].fmt.mono = mono;
    if (!rc) rc = s_measure_all(items, files, n, &target, ref, &refm);
    if (!rc && json) rc = s_print_json(&target, files, n);
    if (!rc && !json) s_print_summaries(items, n, ref, &refm);
    if (!rc && html && mf_qc_report_write_html(html, &target, files, (size_t)n)) {
        fprintf(stderr, "mixfarm: %s: cannot write the report: %s\n", html, strerror(errno));
        rc = MF_EXIT_USAGE;
    }
    if (!rc) rc = mf_qc_report_pass(files, (size_t)n) ? MF_EXIT_OK : MF_EXIT_FAILED;
    for (int i = 0; items && i < n; i++) mf_measure_fini(&items[i].m), json_decref(items[i].cmp);
    if (ref) mf_measure_fini(&refm);
    free(items), free(files);
    return rc;
}

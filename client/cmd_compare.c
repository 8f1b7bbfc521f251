/* mixfarm compare FILE --reference REF [--json] [-o REPORT.html]: measures a
 * file and a reference track the same way (loudness, range, peaks, width
 * per band, the spectrum of the loudest passages) and says how they differ. */
#include "mf_cli.h"
#include "mf_compare.h"
#include "mf_qc_report.h"

#include <errno.h>
#include <getopt.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void s_help(FILE *out)
{
    fprintf(out,
            "usage: mixfarm compare FILE --reference REF [--json] [-o REPORT.html]\n\n"
            "Compares a mix or master with a reference track: integrated loudness, loudness\n"
            "range, true peak, PLR, crest factor, stereo width (side/mid per band) and the\n"
            "long-term spectrum in third-octave bands from 20 Hz to 20 kHz, averaged over the\n"
            "loudest passages of each (3-second passages at or above their quadratic mean).\n"
            "Differences are file minus reference, raw: the loudness line says the offset.\n\n"
            "options:\n"
            "  -r, --reference REF  the reference track (WAV, AIFF, FLAC...; mono or stereo)\n"
            "      --json           print the comparison as JSON (fields in docs/reference.md)\n"
            "  -o, --output FILE    also write an HTML report with both spectra and their\n"
            "                       difference plotted (self-contained)\n"
            "  -h, --help           this text\n\n"
            "examples:\n"
            "  mixfarm compare out/mix.wav --reference refs/song.flac\n"
            "  mixfarm compare master.wav -r ref.wav --json | jq '.bands[] | .diff_db'\n\n"
            "exit codes: 0 done, 1 out of memory, 2 bad usage or an unreadable file\n");
}

/* Measures one file; prints why and returns the exit code when it cannot. */
static int s_measure(const char *path, mf_measure_t *out)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "mixfarm: %s: %s\n", path,
                errno == ENOENT ? "no such file" : strerror(errno));
        return MF_EXIT_USAGE;
    }
    SF_INFO si = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    if (!sf) {
        fprintf(stderr, "mixfarm: %s: cannot read: %s\n", path, sf_strerror(NULL));
        return MF_EXIT_USAGE;
    }
    mf_meter_t *m =
        si.channels >= 1 && si.channels <= 2 ? mf_meter_new(si.channels, si.samplerate) : NULL;
    float *buf = malloc(4096 * 2 * sizeof *buf);
    int rc = MF_EXIT_OK;
    if (!m || !buf) {
        fprintf(stderr,
                "mixfarm: %s: %d channels at %d Hz: compare reads mono or stereo at 8 to "
                "768 kHz\n",
                path, si.channels, si.samplerate);
        rc = MF_EXIT_USAGE;
    }
    sf_count_t got;
    while (rc == MF_EXIT_OK && (got = sf_readf_float(sf, buf, 4096)) > 0)
        if (mf_meter_feed(m, buf, (size_t)got) != MF_OK) rc = MF_EXIT_FAILED;
    if (rc == MF_EXIT_OK && sf_error(sf)) {
        fprintf(stderr, "mixfarm: %s: read error: %s\n", path, sf_strerror(sf));
        rc = MF_EXIT_USAGE;
    }
    if (rc == MF_EXIT_OK && mf_meter_finish(m, out) != MF_OK) {
        mf_measure_fini(out);
        rc = MF_EXIT_FAILED;
    }
    if (rc == MF_EXIT_FAILED) fprintf(stderr, "mixfarm: %s: out of memory\n", path);
    mf_meter_free(&m);
    free(buf);
    sf_close(sf);
    return rc;
}

static int s_write_html(const char *path, const char *file, const char *ref, const mf_measure_t *a,
                        const mf_measure_t *b)
{
    char *html = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&html, &len);
    mf_err_t err = mem ? mf_compare_html(mem, file, ref, a, b) : MF_ERR_NOMEM;
    if (mem) fclose(mem);
    if (err == MF_OK) err = mf_qc_write_atomic(path, html, len);
    free(html);
    if (err == MF_OK) return MF_EXIT_OK;
    fprintf(stderr, "mixfarm: %s: cannot write the report: %s\n", path,
            err == MF_ERR_IO ? strerror(errno) : mf_strerror(err));
    return MF_EXIT_USAGE;
}

int mf_cmd_compare(int argc, char **argv)
{
    static const struct option longs[] = {{"reference", required_argument, 0, 'r'},
                                          {"json", no_argument, 0, 'j'},
                                          {"output", required_argument, 0, 'o'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *ref = NULL, *html = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:o:h", longs, NULL)) != -1) {
        switch (c) {
        case 'r':
            ref = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'o':
            html = optarg;
            break;
        case 'h':
            s_help(stdout);
            return MF_EXIT_OK;
        default:
            s_help(stderr);
            return MF_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !ref) {
        fprintf(stderr, "mixfarm: compare: %s\n",
                optind >= argc ? "which file? (mixfarm compare FILE --reference REF)"
                : !ref         ? "compared with what? (--reference REF)"
                               : "one file at a time");
        return MF_EXIT_USAGE;
    }
    const char *file = argv[optind];
    mf_measure_t a, b;
    int rc = s_measure(file, &a);
    if (rc) return rc;
    if ((rc = s_measure(ref, &b))) {
        mf_measure_fini(&a);
        return rc;
    }
    if (json) {
        json_t *doc = mf_compare_json(file, ref, &a, &b);
        if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10))) {
            fprintf(stderr, "mixfarm: compare: cannot write the JSON\n");
            rc = MF_EXIT_FAILED;
        } else {
            putchar('\n');
        }
        json_decref(doc);
    } else {
        mf_compare_print(stdout, file, ref, &a, &b);
    }
    if (rc == MF_EXIT_OK && html) rc = s_write_html(html, file, ref, &a, &b);
    mf_measure_fini(&a);
    mf_measure_fini(&b);
    return rc;
}

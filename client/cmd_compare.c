/* mixfarm compare FILE --reference REF [--json] [-o REPORT.html]: measures a
 * file and a reference track the same way (loudness, range, peaks, width
 * per band, the spectrum of the loudest passages) and says how they differ. */
#include "cmd_measure.h"
#include "mf_cli.h"
#include "mf_fs.h"
#include "mf_qc_report.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_help(FILE *out)
{
    fprintf(out,
            "usage: mixfarm compare FILE --reference REF [--json] [-o REPORT.html]\n\n"
            "Compares a mix or master with a reference track: integrated loudness, loudness\n"
            "range, true peak, PLR, crest factor, stereo width (side/mid per band) and the\n"
            "long-term spectrum in third-octave bands from 20 Hz to 20 kHz, averaged over the\n"
            "loudest passages of each (3-second passages at or above their quadratic mean).\n"
            "Differences are file minus reference, raw: the loudness line says the offset.\n"
            "Either file may be mono, stereo or surround up to 16 channels, laid out as\n"
            "mixfarm qc lays it out: loudness and peaks over every channel, the spectrum and\n"
            "width of the front L/R pair.\n\n"
            "options:\n"
            "  -r, --reference REF  the reference track (WAV, AIFF, FLAC, Ogg...)\n"
            "      --json           print the comparison as JSON (fields in docs/reference.md)\n"
            "  -o, --output FILE    also write an HTML report with both spectra and their\n"
            "                       difference plotted (self-contained)\n"
            "  -h, --help           this text\n\n"
            "examples:\n"
            "  mixfarm compare out/mix.wav --reference refs/song.flac\n"
            "  mixfarm compare master.wav -r ref.wav --json | jq '.bands[] | .diff_db'\n\n"
            "exit codes: 0 done, 1 out of memory, 2 bad usage or an unreadable file\n");
}

static int s_write_html(const char *path, const char *file, const char *ref, const mf_measure_t *a,
                        const mf_measure_t *b)
{
    char *html = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&html, &len);
    mf_err_t err = mem ? mf_compare_html(mem, file, ref, a, b) : MF_ERR_NOMEM;
    if (mem) fclose(mem);
    if (err == MF_OK) err = mf_fs_write_atomic(path, html, len);
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
    int rc = mf_cli_measure(file, &a);
    if (rc) return rc;
    if ((rc = mf_cli_measure(ref, &b))) {
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

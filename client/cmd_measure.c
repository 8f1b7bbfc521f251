/* mf_cli_measure (cmd_measure.h). */
#include "cmd_layout.h"
#include "cmd_measure.h"
#include "mf_audio_why.h"
#include "mf_cli.h"

#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int mf_cli_measure(const char *path, mf_measure_t *out)
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
        char why[256];
        mf_audio_why(path, sf_strerror(NULL), why, sizeof why);
        fprintf(stderr, "mixfarm: %s: cannot read: %s\n", path, why);
        return MF_EXIT_USAGE;
    }
    const int ch_ok = si.channels >= 1 && si.channels <= MF_QC_MAX_CHANNELS;
    mf_meter_t *m = ch_ok ? mf_meter_new(si.channels, si.samplerate) : NULL;
    float *buf = ch_ok ? malloc(4096 * (size_t)si.channels * sizeof *buf) : NULL;
    int rc = MF_EXIT_OK;
    if (!m || !buf) {
        fprintf(stderr,
                "mixfarm: %s: %d channels at %d Hz: a comparison reads 1 to %d channels (mono "
                "to 9.1.6) at 8 to 768 kHz\n",
                path, si.channels, si.samplerate, MF_QC_MAX_CHANNELS);
        rc = MF_EXIT_USAGE;
    }
    mf_cli_layout_t layout;
    if (rc == MF_EXIT_OK && mf_cli_layout(path, sf, &si, &layout) < 0) rc = MF_EXIT_USAGE;
    if (m && rc == MF_EXIT_OK) mf_meter_set_weights(m, layout.weight);
    sf_count_t got;
    while (rc == MF_EXIT_OK && (got = sf_readf_float(sf, buf, 4096)) > 0) {
        mf_cli_layout_apply(&layout, buf, (size_t)got);
        if (mf_meter_feed(m, buf, (size_t)got) != MF_OK) rc = MF_EXIT_FAILED;
    }
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

/* mf_wavf.h against libsndfile: the header it writes for a 32-bit float WAV
 * (no PEAK chunk) is byte for byte the one libsndfile writes, for mono and
 * stereo, several rates and lengths; and the form refuses what needs RF64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "mf_wavf.h"

/* The file libsndfile writes for frames of float samples. */
static unsigned char *s_libsndfile(int channels, int rate, long frames, size_t *size)
{
    char path[] = "/tmp/mixfarm-test-wavf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    SF_INFO info = {
        .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    assert_non_null(sf);
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE); /* as mf_outdir.c */
    float buf[2 * 256];
    for (long t = 0; t < frames;) {
        long n = frames - t < 256 ? frames - t : 256;
        for (long i = 0; i < n * channels; i++) buf[i] = (float)((t * channels + i) % 97) / 100.0f;
        assert_int_equal(sf_writef_float(sf, buf, n), n);
        t += n;
    }
    assert_int_equal(sf_close(sf), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *bytes = malloc(*size + 1);
    assert_int_equal(fread(bytes, 1, *size, f), *size);
    fclose(f);
    unlink(path);
    return bytes;
}

static void test_header_is_libsndfiles(void **state)
{
    (void)state;
    const int rates[] = {44100, 48000, 96000};
    const long lengths[] = {0, 1, 1000, 48001};
    for (int ch = 1; ch <= 2; ch++)
        for (size_t r = 0; r < 3; r++)
            for (size_t l = 0; l < 4; l++) {
                size_t size;
                unsigned char *want = s_libsndfile(ch, rates[r], lengths[l], &size);
                uint8_t got[MF_WAVF_HEADER_MAX];
                size_t len = mf_wavf_header(got, ch, rates[r], lengths[l]);
                assert_int_equal(len + (size_t)lengths[l] * (size_t)ch * 4, size);
                if (memcmp(got, want, len) != 0)
                    fail_msg("%d channels, %d Hz, %ld frames: the header differs from "
                             "libsndfile's",
                             ch, rates[r], lengths[l]);
                free(want);
            }
}

static void test_refuses_what_needs_rf64(void **state)
{
    (void)state;
    uint8_t h[MF_WAVF_HEADER_MAX];
    assert_true(mf_wavf_header(h, 2, 48000, 0x1FFFC000L) > 0);     /* 4 GiB - 64 KiB of data */
    assert_int_equal(mf_wavf_header(h, 2, 48000, 0x20000000L), 0); /* 4 GiB */
    assert_int_equal(mf_wavf_header(h, 3, 48000, 10), 0);
    assert_int_equal(mf_wavf_header(h, 2, 48000, -1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_is_libsndfiles),
        cmocka_unit_test(test_refuses_what_needs_rf64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

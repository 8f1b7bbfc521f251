/* diag/mf_audio_why.c: what to tell someone whose audio file libsndfile
 * could not open.
 *
 *   test_formats_named   an M4A, a DSD file, a Windows Media file and a
 *                        Matroska file are named with what to do; an empty
 *                        file is said to be empty
 *   test_reason_kept     anything else gets libsndfile's reason without its
 *                        "Error : " and full stop, and "unknown format" for
 *                        its "No Error"
 *   test_unreadable      a file that cannot be read (here a folder; a
 *                        drive unplugged mid-render gave "not an audio file
 *                        (No Error)") says why it cannot */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mf_audio_why.h"

static char s_dir[64], s_path[128];

static const char *s_file(const char *name, const void *bytes, size_t n)
{
    snprintf(s_path, sizeof s_path, "%s/%s", s_dir, name);
    FILE *f = fopen(s_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
    return s_path;
}

static void s_says(const char *path, const char *sf_reason, int named, const char *want)
{
    char why[256];
    assert_int_equal(mf_audio_why(path, sf_reason, why, sizeof why), named);
    if (!strstr(why, want)) fail_msg("%s: \"%s\" does not say \"%s\"", path, why, want);
}

static void test_formats_named(void **state)
{
    (void)state;
    static const char m4a[] = "\0\0\0\x20"
                              "ftypM4A \0\0\0\0";
    static const unsigned char wma[] = {0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6};
    static const unsigned char mkv[] = {0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81};
    const char *sf = "Format not recognised.";
    s_says(s_file("a.m4a", m4a, sizeof m4a - 1), sf, 1,
           "an M4A file (AAC or ALAC), which is not read here: convert it to WAV or FLAC");
    s_says(s_file("a.dsf", "DSD \x1c\0\0\0\0\0\0\0", 12), sf, 1, "a DSD file");
    s_says(s_file("a.dff", "FRM8\0\0\0\0", 8), sf, 1, "a DSD file");
    s_says(s_file("a.wma", wma, sizeof wma), sf, 1, "a Windows Media file");
    s_says(s_file("a.webm", mkv, sizeof mkv), sf, 1, "a Matroska or WebM file");
    s_says(s_file("empty.wav", "", 0), sf, 1, "an empty file");
}

static void test_reason_kept(void **state)
{
    (void)state;
    const char *path = s_file("x.txt", "this is not audio\n", 18);
    char why[256];
    assert_int_equal(mf_audio_why(path, "Error : Format not recognised.\n", why, sizeof why), 0);
    assert_string_equal(why, "Format not recognised");
    assert_int_equal(mf_audio_why(path, "No Error", why, sizeof why), 0);
    assert_string_equal(why, "unknown format");
}

static void test_unreadable(void **state)
{
    (void)state;
    s_says(s_dir, "No Error", 1, "cannot be read: Is a directory");
    char gone[128];
    snprintf(gone, sizeof gone, "%s/gone.wav", s_dir);
    s_says(gone, "No Error", 1, "cannot be read: No such file or directory");
}

static int setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/mf-audiowhy-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"a.m4a", "a.dsf", "a.dff", "a.wma", "a.webm", "empty.wav", "x.txt"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(s_path, sizeof s_path, "%s/%s", s_dir, names[i]);
        unlink(s_path);
    }
    return rmdir(s_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_named),
        cmocka_unit_test(test_reason_kept),
        cmocka_unit_test(test_unreadable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

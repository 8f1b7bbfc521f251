#include "session_fixture.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <sndfile.h>

#include "mf_fs.h"
#include "test_audio.h"

static char s_dir[256];

int sfx_open(const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", prefix);
    return mkdtemp(s_dir) ? 0 : -1;
}

int sfx_close(void)
{
    return mf_fs_remove_tree(s_dir);
}

const char *sfx_dir(void)
{
    return s_dir;
}

void sfx_write_wav(const char *rel, int channels, int rate, int frames, float amp)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    float *buf = calloc((size_t)frames * (size_t)channels, sizeof *buf);
    assert_non_null(buf);
    for (int i = 0; amp != 0.0f && i < frames * channels; i++)
        buf[i] = amp * sinf((float)i * 0.01f);
    test_audio_write(path, channels, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_16, buf, frames);
    free(buf);
}

void sfx_write_file(const char *rel, const void *data, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_dir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

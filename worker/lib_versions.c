#include "lib_versions.h"

#include <FLAC/format.h>
#include <fftw3.h>
#include <gnu/libc-version.h>
#include <jansson.h>
#include <lame/lame.h>
#include <opus.h>
#include <opusenc.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdio.h>
#include <threads.h>

static char s_versions[512];
static once_flag s_once = ONCE_FLAG_INIT;

static void s_init(void)
{
    /* What each library says of itself at run time, not the headers it was
     * built against: a worker image may update one without a rebuild. */
    snprintf(s_versions, sizeof s_versions,
             "glibc %s, %s, %s, libFLAC %s, LAME %s, %s, %s, %s, jansson %s",
             gnu_get_libc_version(), sf_version_string(), soxr_version(), FLAC__VERSION_STRING,
             get_lame_version(), opus_get_version_string(), ope_get_version_string(), fftwf_version,
             jansson_version_str());
}

const char *mf_lib_versions(void)
{
    call_once(&s_once, s_init);
    return s_versions;
}

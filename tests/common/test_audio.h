/* Audio files the tests make for themselves (CMakeLists.txt: mf_test_audio). */
#ifndef MF_TEST_AUDIO_H
#define MF_TEST_AUDIO_H

/* Writes frames of interleaved float samples x to path as format (a
 * libsndfile type, e.g. SF_FORMAT_WAV | SF_FORMAT_PCM_24) at rate; the test
 * fails, naming path, when the file cannot be written whole. */
void test_audio_write(const char *path, int channels, int rate, int format, const float *x,
                      long frames);

#endif

/* The libraries whose results go into a task's outputs (encoders, the
 * resampler, the FFT, libm, the JSON writer), with their versions: two
 * workers whose libraries differ may round, encode or format differently,
 * so the versions are part of the arithmetic a job is pinned to
 * (mf_exec_numerics, docs/farm.md "Determinism"). */
#ifndef MF_LIB_VERSIONS_H
#define MF_LIB_VERSIONS_H

/* "glibc 2.36, libsndfile-1.2.0, ...": read once, valid for the process. */
const char *mf_lib_versions(void);

#endif

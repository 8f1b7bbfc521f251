/* The statistics listen_report (listen_report.c) reads: of each listening
 * copy (exec_listen.c), and of the signal they were made from, measured
 * by the mono listen task or, for an unmastered session, by the qc task
 * that measures the mix anyway (exec_qc.c). */
#ifndef MF_LISTEN_STATS_H
#define MF_LISTEN_STATS_H

#include "mf_analyze.h"
#include "mf_ltas.h"
#include "mf_store.h"
#include "mf_task.h"

#include <jansson.h>

/* {"channels", "integrated_lufs", "correlation", "mono_drop_db", "band_db":
 * [31]} of a listening copy of ch channels; a mono copy is measured as
 * played, on both sides: one channel's loudness + 3.01 dB (BS.1770 sums
 * the channels). NULL when out of memory. */
json_t *mf_listen_copy_stats(const mf_analysis_t *a, int ch);
/* The same of the source, plus its loudest passages' third-octave bands,
 * mid and side ("mid_db", "side_db": what vanishes in mono), from ltas fed
 * the same frames as a: stored, and appended to r's outputs. */
mf_err_t mf_listen_put_source_stats(mf_store_t *s, const mf_analysis_t *a, mf_ltas_t *ltas,
                                    mf_task_result_t *r);

#endif

/* Ctrl-C (and SIGTERM, SIGHUP) in a client command that has something to
 * tidy (render, fetch, submit): the signal is noted; the waits of the
 * client's calls and transfers (mf_client_call, mf_xfer_wait) return
 * MF_ERR_CANCELLED, whether the signal broke their poll or came while the
 * thread was busy; and the command tidies up (a job cancelled on the
 * coordinator, OUTDIR's staging folder and temporary stores removed)
 * before dying of the same signal, as a shell script expects. A second
 * signal kills at once. Without mf_interrupt_catch nothing is caught and
 * mf_interrupted is always 0. */
#ifndef MF_INTERRUPT_H
#define MF_INTERRUPT_H

/* Installs the handlers. */
void mf_interrupt_catch(void);
/* The signal caught so far, 0 for none. */
int mf_interrupted(void);
/* With a signal caught: dies of it (the default action); else returns. */
void mf_interrupt_exit(void);

#endif

/* Ctrl-C (and SIGTERM, SIGHUP) in a command that writes OUTDIR while it
 * waits on a job (render, fetch): the signal is noted, the wait it breaks
 * returns MF_ERR_CANCELLED (mf_client_call), and the command tidies up (a
 * render cancels its job on a coordinator; OUTDIR's staging folder goes)
 * before dying of the same signal, as a shell script expects. A second
 * signal kills at once. */
#ifndef MF_INTERRUPT_H
#define MF_INTERRUPT_H

/* Installs the handlers. */
void mf_interrupt_catch(void);
/* The signal caught so far, 0 for none. */
int mf_interrupted(void);
/* With a signal caught: dies of it (the default action); else returns. */
void mf_interrupt_exit(void);

#endif

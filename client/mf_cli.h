/* The mixfarm command: one table of subcommands (main.c), each in its own
 * cmd_*.c file, and what they share. */
#ifndef MF_CLI_H
#define MF_CLI_H

#include "mf_client.h"
#include "mf_embedded.h"

/* Exit codes (CLI.md). */
enum { MF_EXIT_OK = 0, MF_EXIT_FAILED = 1, MF_EXIT_USAGE = 2, MF_EXIT_UNREACHABLE = 3 };

int mf_cmd_render(int argc, char **argv);
int mf_cmd_submit(int argc, char **argv);
int mf_cmd_status(int argc, char **argv);
int mf_cmd_watch(int argc, char **argv);
int mf_cmd_fetch(int argc, char **argv);
int mf_cmd_cancel(int argc, char **argv);
int mf_cmd_qc(int argc, char **argv);
int mf_cmd_compare(int argc, char **argv);
int mf_cmd_diff(int argc, char **argv);
int mf_cmd_init(int argc, char **argv);
int mf_cmd_keygen(int argc, char **argv);
int mf_cmd_catalogue(int argc, char **argv);

/* Parses a count from 1 to 4096; -1 when it is not one. */
int mf_cli_positive_int(const char *s);

/* A connection to a farm: a remote coordinator (with a temporary local blob
 * store, or its own store mounted here) or an embedded one (sharing its
 * store). */
typedef struct {
    void *zctx;
    mf_store_t *store;
    char dir[4096]; /* the temporary store's folder, "" when embedded or shared */
    int owner_fd;   /* its owner mark (mf_tempdir.h); 0 or less: none */
    mf_embedded_t *farm;
    mf_client_t *client;
} mf_conn_t;

/* endpoint NULL: $MIXFARM_COORDINATOR. On a secured farm, the CURVE keys
 * come from mf_cli_set_curve, else $MIXFARM_KEYS and $MIXFARM_SERVER_KEY.
 * Prints why and returns the exit code on failure, -1 on success. */
int mf_conn_remote(mf_conn_t *c, const char *endpoint);
/* --curve-keys NAME and --server-key FILE (borrowed; NULL: not given). */
void mf_cli_set_curve(const char *keys, const char *server_key);
/* --shared-store DIR (borrowed; NULL: not given, then $MIXFARM_SHARED_STORE):
 * the coordinator's blob store, mounted here. mf_conn_remote then uses it as
 * the client's store: sources are copied into it instead of uploaded, and
 * outputs are read from it instead of fetched. */
void mf_cli_set_shared_store(const char *dir);
int mf_conn_embedded(mf_conn_t *c, int workers, const char *state_dir, int64_t store_budget);
void mf_conn_close(mf_conn_t *c);
/* After Ctrl-C (mf_interrupt.h), once the command has said so: the log
 * silenced, the temporary folders removed now, whatever the farm's threads
 * are doing (nothing else is freed), and the process dies of the signal. */
void mf_conn_die_interrupted(mf_conn_t *c);
/* The exit code for an error from a client call. */
int mf_cli_exit_for(mf_err_t err);
/* OUTDIR can be written (a folder this user may write in, or one that can
 * be made in such a folder): checked before any work, so that a mistyped
 * path fails at once, said once. -1 when it can, else MF_EXIT_USAGE. */
int mf_cli_check_outdir(const char *outdir);
/* Why a file or folder cannot be made at path ("its folder does not
 * exist", ...), or NULL when it can. */
const char *mf_cli_cannot_make(const char *path);
/* No file the session or album (either may be NULL) reads is one that
 * rendering into OUTDIR would replace (outdir_guard.c): -1 when none is,
 * else MF_EXIT_USAGE, each said. */
int mf_cli_check_inputs(const char *outdir, const mf_session_t *s, const mf_album_t *a);
/* Loads and validates a session, printing every problem; NULL on errors. */
mf_session_t *mf_cli_load_session(const char *path);
/* The same for an album document (client_album.c). */
mf_album_t *mf_cli_load_album(const char *path);

#endif

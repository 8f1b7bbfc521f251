/* mixfarm error codes: one X-macro gives the enum, the names and the words.
 * 0 is success; every function returning mf_err_t says in its header what the
 * codes mean for it. Turn codes into words only at the edge (CLI, replies). */
#ifndef MF_ERROR_H
#define MF_ERROR_H

#define MF_ERRORS(X)                                                                               \
    X(MF_OK, "success")                                                                            \
    X(MF_ERR_NOMEM, "out of memory")                                                               \
    X(MF_ERR_IO, "input/output error")                                                             \
    X(MF_ERR_NOENT, "no such file")                                                                \
    X(MF_ERR_FORMAT, "not a file of the expected format")                                          \
    X(MF_ERR_INVALID, "invalid input")                                                             \
    X(MF_ERR_CORRUPT, "data is corrupt")                                                           \
    X(MF_ERR_LIMIT, "over a limit")                                                                \
    X(MF_ERR_CANCELLED, "cancelled")                                                               \
    X(MF_ERR_TASK, "task failed")                                                                  \
    X(MF_ERR_UNREACHABLE, "coordinator could not be reached")                                      \
    X(MF_ERR_PROTOCOL, "protocol error")                                                           \
    X(MF_ERR_NOSPACE, "no space left on device")

typedef enum {
#define MF_X_ENUM(code, words) code,
    MF_ERRORS(MF_X_ENUM)
#undef MF_X_ENUM
        MF_ERR__COUNT
} mf_err_t;

/* Plain-English words for an error code; never NULL. */
const char *mf_strerror(mf_err_t err);
/* The enum name of an error code ("MF_ERR_IO"); never NULL. */
const char *mf_err_name(mf_err_t err);

#endif

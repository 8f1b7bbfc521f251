#include "mf_error.h"

static const char *const s_words[] = {
#define MF_X_WORDS(code, words) words,
    MF_ERRORS(MF_X_WORDS)
#undef MF_X_WORDS
};

static const char *const s_names[] = {
#define MF_X_NAME(code, words) #code,
    MF_ERRORS(MF_X_NAME)
#undef MF_X_NAME
};

const char *mf_strerror(mf_err_t err)
{
    return (unsigned)err < MF_ERR__COUNT ? s_words[err] : "unknown error";
}

const char *mf_err_name(mf_err_t err)
{
    return (unsigned)err < MF_ERR__COUNT ? s_names[err] : "MF_ERR_UNKNOWN";
}

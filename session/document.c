/* Reading a document (session or album) within MF_LIMIT_DOC_BYTES: a file
 * known to be larger is refused before it is opened, and every file is read
 * through a counter, so one that grows while it is read, or a pipe or a
 * device that never ends, is refused after the limit and never held whole. */
#include "session_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    FILE *f;
    size_t left; /* bytes still allowed */
    int too_long;
    unsigned char head[3]; /* the first bytes, read to look for a BOM */
    size_t head_n, head_at;
} capped_reader_t;

/* The UTF-8 byte order mark some editors (Notepad) put first: JSON may not
 * begin with it, but the text after it is what the user wrote. */
static const char s_bom[] = "\xEF\xBB\xBF";

/* UTF-16 text (Notepad's "Unicode"), with its byte order mark or ASCII
 * with a zero byte beside each character: JSON is UTF-8 (RFC 8259). */
static int s_utf16(const unsigned char *h, size_t n)
{
    return n >= 2 && ((h[0] == 0xFF && h[1] == 0xFE) || (h[0] == 0xFE && h[1] == 0xFF) ||
                      (h[0] != 0) != (h[1] != 0));
}

const char *mf_sess__skip_bom(const char *text)
{
    return text && !strncmp(text, s_bom, 3) ? text + 3 : text;
}

/* jansson's reader: up to len bytes; (size_t)-1 stops the parse. */
static size_t s_read_capped(void *buf, size_t len, void *data)
{
    capped_reader_t *r = data;
    if (r->head_at < r->head_n) { /* what the BOM check read, when it was none */
        const size_t n = len < r->head_n - r->head_at ? len : r->head_n - r->head_at;
        memcpy(buf, r->head + r->head_at, n);
        r->head_at += n;
        return n;
    }
    if (r->left == 0) {
        if (fgetc(r->f) == EOF) return 0;
        r->too_long = 1;
        return (size_t)-1;
    }
    if (len > r->left) len = r->left;
    size_t n = fread(buf, 1, len, r->f);
    r->left -= n;
    return n;
}

static void s_too_large(mf_diags_t *d, const char *size)
{
    mf_diags_error(d, "", "%s; a document is at most %u bytes (%u MiB)", size, MF_LIMIT_DOC_BYTES,
                   MF_LIMIT_DOC_BYTES >> 20);
}

static void s_json_error(mf_diags_t *d, const json_error_t *err)
{
    if (err->line > 0)
        mf_diags_error(d, "", "not valid JSON: line %d, column %d: %s", err->line, err->column,
                       err->text);
    else
        mf_diags_error(d, "", "%s", err->text);
}

json_t *mf_sess__read_document(const char *path, mf_diags_t *d)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        char hint[512] = "";
        if (errno == ENOENT) mf_sess__missing_hint(path, path, hint, sizeof hint);
        mf_diags_error(d, "", "%s%s", errno == ENOENT ? "no such file" : strerror(errno), hint);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        mf_diags_error(d, "", "is a folder, not a file");
        return NULL;
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > MF_LIMIT_DOC_BYTES) {
        char size[64];
        snprintf(size, sizeof size, "is %lld bytes", (long long)st.st_size);
        s_too_large(d, size);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        mf_diags_error(d, "", "cannot be read (%s)", strerror(errno));
        return NULL;
    }
    capped_reader_t r = {.f = f, .left = MF_LIMIT_DOC_BYTES};
    r.head_n = fread(r.head, 1, sizeof r.head, f);
    if (s_utf16(r.head, r.head_n)) {
        fclose(f);
        mf_diags_error(d, "",
                       "is UTF-16 text; a JSON file is UTF-8: save it as UTF-8 (in Notepad: "
                       "File, Save as, Encoding: UTF-8)");
        return NULL;
    }
    if (r.head_n == 3 && !memcmp(r.head, s_bom, 3))
        r.head_n = 0;
    else
        r.left -= r.head_n;
    json_error_t err;
    json_t *doc = json_load_callback(s_read_capped, &r, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    if (r.too_long) {
        json_decref(doc);
        char size[64];
        snprintf(size, sizeof size, "holds more than %u bytes", MF_LIMIT_DOC_BYTES);
        s_too_large(d, size);
        return NULL;
    }
    if (!doc) s_json_error(d, &err);
    return doc;
}

json_t *mf_sess__parse_text(const char *text, mf_diags_t *d)
{
    text = mf_sess__skip_bom(text);
    const size_t n = strlen(text);
    if (n > MF_LIMIT_DOC_BYTES) {
        char size[64];
        snprintf(size, sizeof size, "is %zu bytes", n);
        s_too_large(d, size);
        return NULL;
    }
    json_error_t err;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        mf_diags_error(d, "", "not valid JSON: line %d, column %d: %s", err.line, err.column,
                       err.text);
    return doc;
}

/* Random sessions for property tests (render_random, cluster_random): from
 * a seeded generator, tracks of several rates and lengths written into the
 * session's folder, inserts of every type of the registry with random
 * parameters (the ends of their ranges included), tracks into buses, a bus
 * into another, sends, mute, solo and polarity, a side-chain, automation of
 * faders, pans, sends and insert parameters; sources in several formats,
 * trimmed and placed; pan laws, tempo, stems and the master's strip; and,
 * two times in three, mastering to a random target with deliverables in
 * every format at random bits, rates and bitrates. */
#include "random_session.h"
#include "mf_processor.h"
#include "test_audio.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sndfile.h>

static uint64_t s_rng = 0x6A09E667F3BCC908ull;

void rs_seed(uint64_t seed)
{
    if (seed) s_rng = seed;
}

void rs_seed_env(uint64_t offset, uint64_t dflt)
{
    const char *seed = getenv("MF_RANDOM_SEED");
    rs_seed(seed ? strtoull(seed, NULL, 0) + offset : dflt);
}

int rs_count(const char *var, int dflt)
{
    const char *n = getenv(var);
    return n && atoi(n) > 0 ? atoi(n) : dflt;
}
static uint32_t rnd32(void)
{
    s_rng ^= s_rng << 13, s_rng ^= s_rng >> 7, s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 32);
}
static double rnd01(void)
{
    return rnd32() / 4294967296.0;
}

/* A value of p: its minimum, maximum, default or between, as JSON. */
static json_t *s_value(const mf_param_desc_t *p)
{
    if (p->choices) {
        size_t n = 0;
        while (p->choices[n]) n++;
        return json_string(p->choices[rnd32() % n]);
    }
    const uint32_t k = rnd32() % 4;
    const double v = k == 0 ? p->min : k == 1 ? p->max : p->min + (p->max - p->min) * rnd01();
    return json_real(round(v * 1000) / 1000);
}

static void s_params(json_t *o, const mf_param_desc_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rnd32() % 3) json_object_set_new(o, p[i].name, s_value(&p[i]));
}

/* An insert of a random class (no file input); sidechain: a track to key
 * a compressor from, or NULL. */
static json_t *s_insert(const char *sidechain)
{
    size_t n;
    const mf_processor_class_t *const *cls = mf_processors(&n), *c;
    do c = cls[rnd32() % n];
    while (c->aux && rnd32() % 8); /* a reverb, algorithmic */
    json_t *o = json_pack("{s:s}", "type", c->type);
    s_params(o, c->params, c->n_params);
    size_t bands = c->max_bands ? 1 + rnd32() % (c->max_bands < 4 ? c->max_bands : 4) : 0;
    for (size_t l = 0; l < c->n_lists; l++) {
        const mf_list_param_t *L = &c->lists[l];
        const size_t k = L->min_count + rnd32() % (L->max_count - L->min_count + 1);
        json_t *a = json_array();
        for (size_t i = 0; i < k; i++)
            json_array_append_new(
                a, json_real(round(L->item.min + (L->item.max - L->item.min) * (double)(i + 1) /
                                                     (double)(k + 1))));
        json_object_set_new(o, L->item.name, a);
        if (L->sets_bands) bands = k + 1;
    }
    if (bands) {
        json_t *a = json_array();
        for (size_t b = 0; b < bands; b++) {
            json_t *band = json_object();
            s_params(band, c->band_params, c->n_band_params);
            json_array_append_new(a, band);
        }
        json_object_set_new(o, "bands", a);
    }
    if (c->has_sidechain && sidechain && rnd32() % 2)
        json_object_set_new(o, "sidechain", json_string(sidechain));
    return o;
}

/* Breakpoints over lo..hi: a step (two at one time) now and then. */
static json_t *s_points(double lo, double hi)
{
    json_t *a = json_array();
    double t = 0;
    for (uint32_t i = 0, n = 1 + rnd32() % 5; i < n; i++) {
        json_array_append_new(a,
                              json_pack("[f,f]", t, round((lo + (hi - lo) * rnd01()) * 100) / 100));
        t += i % 2 ? 0.7 * rnd01() : 0.0;
    }
    return a;
}

/* The file formats a track may come in (SESSION.md: any libsndfile reads). */
static const struct {
    const char *ext;
    int format;
} s_formats[] = {
    {"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24},   {"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
    {"wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT},    {"wav", SF_FORMAT_WAV | SF_FORMAT_PCM_U8},
    {"aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16}, {"flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24},
    {"w64", SF_FORMAT_W64 | SF_FORMAT_PCM_32},
};

/* A tone in bursts (a gap every third of 3000 frames): dynamics act. */
static void s_write_tone(const char *dir, const char *name, int channels, int rate, long frames,
                         int format)
{
    float *x = malloc(sizeof *x * (size_t)frames * (size_t)channels);
    assert_non_null(x);
    for (long i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            x[i * channels + c] =
                (i / 3000) % 3
                    ? (float)(0.5 * sin(2 * M_PI * (110.0 + 330.0 * c) * (double)i / rate))
                    : 0.0f;
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    test_audio_write(path, channels, rate, format, x, frames);
    free(x);
}

/* Deliverables: a WAV and a FLAC, and now and then an MP3 and an Opus, at
 * random bits, rates and bitrates each format takes. */
static json_t *s_outputs(void)
{
    static const int bits[] = {16, 24, 32}, rates[] = {0, 44100, 48000, 96000};
    static const int mp3[] = {0, 128, 192, 320}, opus[] = {0, 64, 96, 160, 256};
    json_t *a = json_array();
    json_t *wav = json_pack("{s:s, s:i}", "format", "wav", "bits", bits[rnd32() % 3]);
    json_t *flac = json_pack("{s:s, s:i}", "format", "flac", "bits", bits[rnd32() % 2]);
    const int r = rates[rnd32() % 4];
    if (r) json_object_set_new(flac, "sample_rate", json_integer(r));
    json_array_append_new(a, wav), json_array_append_new(a, flac);
    if (rnd32() % 3 == 0) {
        json_t *o = json_pack("{s:s}", "format", "mp3");
        const int k = mp3[rnd32() % 4];
        if (k) json_object_set_new(o, "bitrate_kbps", json_integer(k));
        if (rnd32() % 2) json_object_set_new(o, "sample_rate", json_integer(44100));
        json_array_append_new(a, o);
    }
    if (rnd32() % 3 == 0) {
        json_t *o = json_pack("{s:s}", "format", "opus");
        const int k = opus[rnd32() % 5];
        if (k) json_object_set_new(o, "bitrate_kbps", json_integer(k));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *rs_session(const char *dir)
{
    static const int rates[] = {22050, 44100, 48000, 96000};
    json_t *tracks = json_array(), *buses = json_array();
    const uint32_t n_buses = rnd32() % 3;
    for (uint32_t b = 0; b < n_buses; b++) {
        json_t *ins = json_array();
        for (uint32_t i = 0, k = rnd32() % 3; i < k; i++)
            json_array_append_new(ins, s_insert(b ? "T0" : NULL));
        char bus[8];
        snprintf(bus, sizeof bus, "B%u", b + 1);
        json_t *o = json_pack("{s:s, s:o}", "name", bus, "inserts", ins);
        if (b && rnd32() % 2) json_object_set_new(o, "output", json_string("B1")); /* a chain */
        json_array_append_new(buses, o);
    }
    for (uint32_t k = 0, n = 1 + rnd32() % 4; k < n; k++) {
        char name[16], file[32];
        snprintf(name, sizeof name, "T%u", k);
        const size_t f = rnd32() % 3 ? 0 : rnd32() % (sizeof s_formats / sizeof *s_formats);
        snprintf(file, sizeof file, "t%u.%s", k, s_formats[f].ext);
        const int rate = rates[rnd32() % 4];
        const double len_s = 0.3 + 1.5 * rnd01();
        s_write_tone(dir, file, 1 + (int)(rnd32() % 2), rate, (long)(rate * len_s),
                     s_formats[f].format);
        json_t *ins = json_array();
        for (uint32_t i = 0, m = rnd32() % 3; i < m; i++)
            json_array_append_new(ins, s_insert(k ? "T0" : NULL));
        json_t *t = json_pack("{s:s, s:s, s:o, s:f, s:f}", "name", name, "file", file, "inserts",
                              ins, "pan", round((2 * rnd01() - 1) * 100) / 100, "start_s",
                              rnd32() % 2 ? 0.0 : 0.25);
        if (n_buses && rnd32() % 2) { /* into a bus rather than the master */
            char bus[8];
            snprintf(bus, sizeof bus, "B%u", 1 + rnd32() % n_buses);
            json_object_set_new(t, "output", json_string(bus));
        }
        if (rnd32() % 4 == 0) /* a region of the file, placed anywhere */
            json_object_set_new(
                t, "trim",
                json_pack("{s:f, s:o}", "from_s", round(len_s * rnd01() * 50) / 100, "length_s",
                          rnd32() % 2 ? json_null()
                                      : json_real(0.05 + round(rnd01() * 100) / 100)));
        if (rnd32() % 4 == 0)
            json_object_set_new(t, "start_s", json_real(round(rnd01() * 150) / 100));
        if (rnd32() % 6 == 0) json_object_set_new(t, "mute", json_true());
        if (rnd32() % 8 == 0) json_object_set_new(t, "solo", json_true());
        if (rnd32() % 6 == 0) json_object_set_new(t, "invert", json_true());
        json_t *autom = json_object(), *sends = json_array();
        if (rnd32() % 2) json_object_set_new(autom, "gain_db", s_points(-40, 6));
        if (rnd32() % 2) json_object_set_new(autom, "pan", s_points(-1, 1));
        if (json_array_size(ins) && rnd32() % 2) {
            const json_t *in0 = json_array_get(ins, 0);
            const mf_processor_class_t *c =
                mf_processor_find(json_string_value(json_object_get(in0, "type")));
            for (size_t i = 0; i < c->n_params; i++)
                if (!c->params[i].choices) {
                    char path[96];
                    snprintf(path, sizeof path, "inserts.0.%s", c->params[i].name);
                    json_object_set_new(autom, path, s_points(c->params[i].min, c->params[i].max));
                    break;
                }
        }
        for (uint32_t b = 0; b < n_buses; b++)
            if (rnd32() % 2) {
                char bus[8], path[32];
                snprintf(bus, sizeof bus, "B%u", b + 1);
                json_array_append_new(sends, json_pack("{s:s, s:f, s:b}", "bus", bus, "level_db",
                                                       round(-300 * rnd01()) / 10, "pre_fader",
                                                       (int)(rnd32() % 2)));
                snprintf(path, sizeof path, "sends.%s.level_db", bus);
                if (rnd32() % 3 == 0) json_object_set_new(autom, path, s_points(-40, 0));
            }
        json_object_set_new(t, "automation", autom);
        json_object_set_new(t, "sends", sends);
        json_array_append_new(tracks, t);
    }
    json_t *s = json_pack("{s:i, s:s, s:i, s:o, s:o}", "mixfarm", 1, "name", "random",
                          "sample_rate", rates[1 + rnd32() % 3], "tracks", tracks, "buses", buses);
    static const double laws[] = {-3, -4.5, -6};
    if (rnd32() % 3 == 0) json_object_set_new(s, "pan_law_db", json_real(laws[rnd32() % 3]));
    if (rnd32() % 2) json_object_set_new(s, "tempo_bpm", json_integer(60 + rnd32() % 120));
    json_t *stems = json_array(); /* some buses and tracks */
    for (size_t i = 0; i < json_array_size(buses) + json_array_size(tracks); i++) {
        const json_t *o = i < json_array_size(buses)
                              ? json_array_get(buses, i)
                              : json_array_get(tracks, i - json_array_size(buses));
        if (rnd32() % 3 == 0) json_array_append(stems, json_object_get(o, "name"));
    }
    json_object_set_new(s, "stems", stems);
    if (rnd32() % 3 == 0) { /* the master's own strip */
        json_t *ins = json_array();
        for (uint32_t i = 0, k = 1 + rnd32() % 2; i < k; i++)
            json_array_append_new(ins, s_insert(NULL));
        json_object_set_new(
            s, "master",
            json_pack("{s:o, s:f}", "inserts", ins, "gain_db", round(-120 * rnd01()) / 10));
    }
    if (rnd32() % 3) {
        static const char *const targets[] = {"streaming", "ebu-r128", "cd", "none"};
        json_t *ins = json_array();
        for (uint32_t i = 0, k = rnd32() % 3; i < k; i++)
            json_array_append_new(ins, s_insert(NULL));
        json_object_set_new(s, "mastering",
                            json_pack("{s:s, s:o, s:b}", "target", targets[rnd32() % 4], "inserts",
                                      ins, "mono", rnd32() % 5 == 0));
        json_object_set_new(s, "outputs", s_outputs());
        if (rnd32() % 2)
            json_object_set_new(s, "metadata",
                                json_pack("{s:s, s:s, s:i}", "title",
                                          "Nuit blanche \xC3\xA9t\xC3\xA9", "artist",
                                          "R\xC3\xB6yksopp & Co", "track", 1 + rnd32() % 20));
    }
    return s;
}

json_t *rs_album(const char *dir)
{
    static const char *const targets[] = {"streaming", "ebu-r128", "cd", "none", "apple"};
    static const int rates[] = {22050, 44100, 48000, 96000};
    json_t *tracks = json_array();
    for (uint32_t k = 0, n = 1 + rnd32() % 4; k < n; k++) {
        char name[32], path[1200];
        json_t *t;
        if (rnd32() % 2) { /* a session, mixed in the same job */
            snprintf(name, sizeof name, "song%u", k);
            snprintf(path, sizeof path, "%s/%s", dir, name);
            assert_int_equal(mkdir(path, 0755) == 0 || errno == EEXIST, 1);
            json_t *song = rs_session(path);
            snprintf(path, sizeof path, "%s/%s/s.json", dir, name);
            assert_int_equal(json_dump_file(song, path, JSON_INDENT(1)), 0);
            json_decref(song);
            snprintf(path, sizeof path, "%s/s.json", name);
            t = json_pack("{s:s}", "session", path);
        } else { /* a finished mix, stereo or (a mono record's) mono */
            const int rate = rates[rnd32() % 4];
            snprintf(name, sizeof name, "mix%u.%s", k, rnd32() % 3 ? "wav" : "flac");
            s_write_tone(dir, name, 1 + (int)(rnd32() % 4 != 0), rate,
                         (long)(rate * (0.8 + 2.5 * rnd01())),
                         strstr(name, ".flac") ? SF_FORMAT_FLAC | SF_FORMAT_PCM_24
                                               : SF_FORMAT_WAV | SF_FORMAT_PCM_24);
            t = json_pack("{s:s}", "mix", name);
        }
        if (k && rnd32() % 3 == 0)
            json_object_set_new(t, "crossfade_s", json_real(round(rnd01() * 40) / 100));
        else if (rnd32() % 2)
            json_object_set_new(t, "gap_s", json_real(round(rnd01() * 150) / 100));
        if (rnd32() % 2) {
            char title[32];
            snprintf(title, sizeof title, "Song %u \xE2\x80\x94 take %u", k + 1, rnd32() % 9);
            json_object_set_new(t, "metadata", json_pack("{s:s}", "title", title));
        }
        if (rnd32() % 6 == 0) json_object_set_new(t, "mono", json_true());
        json_array_append_new(tracks, t);
    }
    json_t *mastering = json_pack("{s:s, s:s}", "target", targets[rnd32() % 5], "mode",
                                  rnd32() % 2 ? "album" : "track");
    if (rnd32() % 3 == 0) {
        json_t *ins = json_array();
        json_array_append_new(ins, s_insert(NULL));
        json_object_set_new(mastering, "inserts", ins);
    }
    return json_pack("{s:i, s:{s:s, s:s}, s:i, s:o, s:o, s:o, s:b}", "mixfarm", 1, "album", "title",
                     "Random", "artist", "The Generators", "sample_rate",
                     rnd32() % 2 ? 44100 : 48000, "mastering", mastering, "tracks", tracks,
                     "outputs", s_outputs(), "cue", (int)(rnd32() % 2));
}

/* The numbers in v (paths appended to what as it goes), the count so far
 * in *n; the k-th one found is moved. */
static void s_numbers(json_t *v, size_t *n, size_t k, char *what, size_t wn, const char *at)
{
    char here[512];
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x)
        {
            /* Not the format, the rate, nor a deliverable's kind. */
            if (!strcmp(key, "mixfarm") || !strcmp(key, "sample_rate") || !strcmp(key, "bits") ||
                !strcmp(key, "bitrate_kbps") || !strcmp(key, "track"))
                continue;
            snprintf(here, sizeof here, "%s%s%s", at, at[0] ? "." : "", key);
            if (json_is_number(x) && (*n)++ == k) {
                const double old = json_number_value(x);
                const double d = fabs(old) > 1 ? 0.05 * old : rnd32() % 2 ? 0.05 : -0.05;
                json_object_set_new(v, key, json_real(round((old + d) * 1000) / 1000));
                snprintf(what, wn, "%s: %g -> %g", here, old, round((old + d) * 1000) / 1000);
            } else {
                s_numbers(x, n, k, what, wn, here);
            }
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *x = json_array_get(v, i);
            snprintf(here, sizeof here, "%s[%zu]", at, i);
            if (json_is_number(x) && (*n)++ == k) {
                const double old = json_number_value(x);
                const double d = fabs(old) > 1 ? 0.05 * old : 0.05;
                json_array_set_new(v, i, json_real(round((old + d) * 1000) / 1000));
                snprintf(what, wn, "%s: %g -> %g", here, old, round((old + d) * 1000) / 1000);
            } else {
                s_numbers(x, n, k, what, wn, here);
            }
        }
    }
}

void rs_revise(json_t *session, char *what, size_t n)
{
    size_t count = 0;
    snprintf(what, n, "nothing");
    s_numbers(session, &count, SIZE_MAX, what, n, ""); /* counted */
    size_t seen = 0;
    if (count) s_numbers(session, &seen, rnd32() % count, what, n, "");
}

json_t *rs_outdir_hashes(const char *outdir)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/manifest.json", outdir);
    json_error_t e;
    json_t *m = json_load_file(path, 0, &e), *h = json_object();
    if (!m) fail_msg("%s: %s", path, e.text);
    const json_t *files = json_object_get(m, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const json_t *f = json_array_get(files, i);
        const char *p = json_string_value(json_object_get(f, "path"));
        if (p && strcmp(p, "render.json")) json_object_set(h, p, json_object_get(f, "sha256"));
    }
    json_decref(m);
    return h;
}

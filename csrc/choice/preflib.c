/* PrefLib ordinal file parser (.soc .soi .toc .toi) with strict validation.
 *
 * Dimension legend: N data lines (distinct orders), M alternatives.
 *
 * The text is scanned twice: first the header (and a count of the data lines, to allocate), then
 * the data lines. Every error names the 1-based line number. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/choice.h"

void srm_preflib_free(srm_preflib *p) {
    if (p == NULL)
        return;
    free(p->levels);
    free(p->weights);
    free(p->names);
    free(p->name_offsets);
    free(p->title);
    memset(p, 0, sizeof *p);
}

typedef struct {
    const char *s; /* start of the line */
    int64_t n;     /* length without the newline (and without a trailing '\r') */
} line_t;

/* Next line from *pos; returns 0 at the end of the text. */
static int next_line(const char *text, int64_t len, int64_t *pos, line_t *ln) {
    if (*pos >= len)
        return 0;
    const char *start = text + *pos;
    const char *nl = memchr(start, '\n', (size_t)(len - *pos));
    int64_t n = nl ? (int64_t)(nl - start) : len - *pos;
    *pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r')
        n--;
    ln->s = start;
    ln->n = n;
    return 1;
}

static int is_blank(const line_t *ln) {
    for (int64_t i = 0; i < ln->n; i++)
        if (!isspace((unsigned char)ln->s[i]))
            return 0;
    return 1;
}

/* Trimmed copy of [s, s+n) into buf (cap bytes); returns 0 if it did not fit. */
static int trimmed(const char *s, int64_t n, char *buf, size_t cap) {
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if ((size_t)n + 1 > cap)
        return 0;
    memcpy(buf, s, (size_t)n);
    buf[n] = '\0';
    return 1;
}

static int parse_int64(const char *s, int64_t *out) {
    if (*s == '\0')
        return 0;
    for (const char *q = s; *q; q++)
        if (!isdigit((unsigned char)*q))
            return 0;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno != 0)
        return 0;
    *out = (int64_t)v;
    return 1;
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL)
        memcpy(c, s, n);
    return c;
}

#define KEY_CAP 64
#define VALUE_CAP 4096

srm_status srm_preflib_parse(const char *text, int64_t len, const char *data_type, int allow_real_counts,
                             srm_preflib *out, srm_error *err) {
    if (out == NULL)
        return srm_fail(err, SRM_EVALUE, "out: NULL");
    memset(out, 0, sizeof *out);
    if (text == NULL || len < 0)
        return srm_fail(err, SRM_EVALUE, "text: NULL");
    char type[8] = "";
    if (data_type != NULL && data_type[0] != '\0') {
        if (strcmp(data_type, "soc") && strcmp(data_type, "soi") && strcmp(data_type, "toc") && strcmp(data_type, "toi"))
            return srm_fail(err, SRM_EVALUE, "data_type: expected soc, soi, toc or toi, got '%.16s'", data_type);
        strcpy(type, data_type);
    }
    char key[KEY_CAP], *value = malloc(VALUE_CAP);
    if (value == NULL)
        return srm_fail(err, SRM_ENOMEM, "PrefLib parser: out of memory");
    srm_status st = SRM_OK;
    int64_t m = -1, n_voters = -1, n_unique = -1, line_no = 0, data_lines = 0, first_data_line = 0;
    int64_t pos = 0, names_len = 0;
    line_t ln;
    /* ---- pass 1: header ---- */
    int in_header = 1;
    char **name_of = NULL; /* [M] once NUMBER ALTERNATIVES is known */
    while (st == SRM_OK && next_line(text, len, &pos, &ln)) {
        line_no++;
        if (in_header && ln.n > 0 && ln.s[0] == '#') {
            const char *colon = memchr(ln.s, ':', (size_t)ln.n);
            if (colon == NULL) {
                st = srm_fail(err, SRM_EVALUE, "line %lld: malformed header line (expected '# KEY: value')", (long long)line_no);
                break;
            }
            if (!trimmed(ln.s + 1, colon - ln.s - 1, key, sizeof key) ||
                !trimmed(colon + 1, ln.n - (colon + 1 - ln.s), value, VALUE_CAP)) {
                st = srm_fail(err, SRM_EVALUE, "line %lld: header line too long", (long long)line_no);
                break;
            }
            int64_t v = 0;
            if (!strcmp(key, "NUMBER ALTERNATIVES") || !strcmp(key, "NUMBER VOTERS") || !strcmp(key, "NUMBER UNIQUE ORDERS")) {
                if (!parse_int64(value, &v)) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: %s must be a non-negative integer, got '%.40s'",
                                  (long long)line_no, key, value);
                    break;
                }
                if (!strcmp(key, "NUMBER ALTERNATIVES")) {
                    if (m >= 0 || v < 1 || v > 10000) {
                        st = srm_fail(err, SRM_EVALUE, "line %lld: NUMBER ALTERNATIVES %s (must appear once, 1..10000)",
                                      (long long)line_no, m >= 0 ? "repeated" : "out of range");
                        break;
                    }
                    m = v;
                    name_of = calloc((size_t)m, sizeof(char *));
                    if (name_of == NULL) {
                        st = srm_fail(err, SRM_ENOMEM, "PrefLib parser: out of memory");
                        break;
                    }
                } else if (!strcmp(key, "NUMBER VOTERS")) {
                    n_voters = v;
                } else {
                    n_unique = v;
                }
            } else if (!strncmp(key, "ALTERNATIVE NAME", 16)) {
                if (m < 0) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: ALTERNATIVE NAME before NUMBER ALTERNATIVES", (long long)line_no);
                    break;
                }
                int64_t id = 0;
                const char *num = key + 16;
                while (*num == ' ')
                    num++;
                if (!parse_int64(num, &id) || id < 1 || id > m) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: bad alternative id in '%s' (expected 1..%lld)", (long long)line_no,
                                  key, (long long)m);
                    break;
                }
                if (name_of[id - 1] != NULL) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: duplicated ALTERNATIVE NAME %lld", (long long)line_no, (long long)id);
                    break;
                }
                name_of[id - 1] = copy_string(value);
                if (name_of[id - 1] == NULL) {
                    st = srm_fail(err, SRM_ENOMEM, "PrefLib parser: out of memory");
                    break;
                }
                names_len += (int64_t)strlen(value) + 1;
            } else if (!strcmp(key, "DATA TYPE")) {
                if (strcmp(value, "soc") && strcmp(value, "soi") && strcmp(value, "toc") && strcmp(value, "toi")) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: DATA TYPE must be soc, soi, toc or toi, got '%.16s'",
                                  (long long)line_no, value);
                    break;
                }
                if (type[0] != '\0' && strcmp(type, value)) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: DATA TYPE '%s' does not match the file type '%s'",
                                  (long long)line_no, value, type);
                    break;
                }
                strcpy(type, value);
            } else if (!strcmp(key, "TITLE")) {
                free(out->title);
                out->title = copy_string(value);
                if (out->title == NULL)
                    st = srm_fail(err, SRM_ENOMEM, "PrefLib parser: out of memory");
            }
            continue;
        }
        if (is_blank(&ln))
            continue;
        if (ln.s[0] == '#') {
            st = srm_fail(err, SRM_EVALUE, "line %lld: header line after the data started", (long long)line_no);
            break;
        }
        if (in_header)
            first_data_line = line_no;
        in_header = 0;
        data_lines++;
    }
    if (st == SRM_OK) {
        if (m < 0)
            st = srm_fail(err, SRM_EVALUE, "header: missing NUMBER ALTERNATIVES");
        else if (n_voters < 0)
            st = srm_fail(err, SRM_EVALUE, "header: missing NUMBER VOTERS");
        else if (n_unique < 0)
            st = srm_fail(err, SRM_EVALUE, "header: missing NUMBER UNIQUE ORDERS");
        else
            for (int64_t i = 0; i < m; i++)
                if (name_of[i] == NULL) {
                    st = srm_fail(err, SRM_EVALUE, "header: missing ALTERNATIVE NAME %lld", (long long)i + 1);
                    break;
                }
    }
    if (st == SRM_OK && data_lines != n_unique)
        st = srm_fail(err, SRM_EVALUE, "data: %lld order lines, but NUMBER UNIQUE ORDERS is %lld", (long long)data_lines,
                      (long long)n_unique);
    if (st == SRM_OK && data_lines == 0)
        st = srm_fail(err, SRM_EVALUE, "data: no order lines (empty profile)");
    if (st == SRM_OK) {
        for (int64_t i = 0; i < m && st == SRM_OK; i++)
            for (int64_t j = 0; j < i; j++)
                if (!strcmp(name_of[i], name_of[j])) {
                    st = srm_fail(err, SRM_EVALUE, "header: alternatives %lld and %lld have the same name '%.60s'",
                                  (long long)j + 1, (long long)i + 1, name_of[i]);
                    break;
                }
    }
    if (st == SRM_OK) {
        out->n_candidates = (int32_t)m;
        out->n_ballots = data_lines;
        out->levels = srm_malloc((size_t)data_lines * (size_t)m, sizeof(int32_t), "PrefLib levels", err);
        out->weights = srm_malloc((size_t)data_lines, sizeof(double), "PrefLib counts", err);
        out->names = srm_malloc((size_t)names_len, 1, "PrefLib names", err);
        out->name_offsets = srm_malloc((size_t)m, sizeof(int64_t), "PrefLib names", err);
        if (!out->levels || !out->weights || !out->names || !out->name_offsets)
            st = SRM_ENOMEM;
    }
    if (st == SRM_OK) {
        int64_t off = 0;
        for (int64_t i = 0; i < m; i++) {
            size_t l = strlen(name_of[i]) + 1;
            memcpy(out->names + off, name_of[i], l);
            out->name_offsets[i] = off;
            off += (int64_t)l;
        }
        if (out->title == NULL && (out->title = copy_string("")) == NULL)
            st = srm_fail(err, SRM_ENOMEM, "PrefLib parser: out of memory");
        strcpy(out->data_type, type);
    }
    /* ---- pass 2: data lines ---- */
    const int strict_only = type[0] == 's', complete = type[0] != '\0' && type[2] == 'c';
    double total = 0.0;
    int64_t b = -1;
    pos = 0;
    line_no = 0;
    while (st == SRM_OK && next_line(text, len, &pos, &ln)) {
        line_no++;
        if (line_no < first_data_line || is_blank(&ln))
            continue;
        b++;
        int32_t *lv = out->levels + b * m;
        for (int64_t c = 0; c < m; c++)
            lv[c] = -1;
        const char *colon = memchr(ln.s, ':', (size_t)ln.n);
        if (colon == NULL) {
            st = srm_fail(err, SRM_EVALUE, "line %lld: malformed order line (expected 'count: order')", (long long)line_no);
            break;
        }
        char cbuf[64];
        if (!trimmed(ln.s, colon - ln.s, cbuf, sizeof cbuf)) {
            st = srm_fail(err, SRM_EVALUE, "line %lld: count too long", (long long)line_no);
            break;
        }
        int64_t ci = 0;
        double count = 0.0;
        if (parse_int64(cbuf, &ci)) {
            count = (double)ci;
        } else if (allow_real_counts) {
            char *end = NULL;
            count = strtod(cbuf, &end);
            if (cbuf[0] == '\0' || end == NULL || *end != '\0' || !isfinite(count) || count < 0.0) {
                st = srm_fail(err, SRM_EVALUE, "line %lld: count '%s' is not a non-negative number", (long long)line_no, cbuf);
                break;
            }
        } else {
            st = srm_fail(err, SRM_EVALUE, "line %lld: count '%s' is not a non-negative integer", (long long)line_no, cbuf);
            break;
        }
        if (!(count > 0.0)) {
            st = srm_fail(err, SRM_EVALUE, "line %lld: count must be positive", (long long)line_no);
            break;
        }
        out->weights[b] = count;
        total += count;
        /* the order: ids and {groups} separated by commas; whitespace anywhere is ignored */
        const char *q = colon + 1, *end = ln.s + ln.n;
        int32_t level = 0, n_ranked = 0;
        int in_group = 0, group_size = 0, expect_item = 1, seen_any = 0;
        while (st == SRM_OK) {
            while (q < end && isspace((unsigned char)*q))
                q++;
            if (q >= end)
                break;
            if (*q == '{') {
                if (in_group || !expect_item) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: unexpected '{'", (long long)line_no);
                    break;
                }
                in_group = 1;
                group_size = 0;
                q++;
                continue;
            }
            if (*q == '}') {
                if (!in_group || expect_item) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: unexpected '}'", (long long)line_no);
                    break;
                }
                if (strict_only && group_size > 1) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: a tie in a strict-order file (%s)", (long long)line_no, type);
                    break;
                }
                in_group = 0;
                level++;
                q++;
                expect_item = 0;
                continue;
            }
            if (*q == ',') {
                if (expect_item) {
                    st = srm_fail(err, SRM_EVALUE, "line %lld: empty item in the order", (long long)line_no);
                    break;
                }
                expect_item = 1;
                q++;
                continue;
            }
            if (!isdigit((unsigned char)*q)) {
                st = srm_fail(err, SRM_EVALUE, "line %lld: unexpected character '%c' in the order", (long long)line_no, *q);
                break;
            }
            if (!expect_item) {
                st = srm_fail(err, SRM_EVALUE, "line %lld: missing ',' between ids", (long long)line_no);
                break;
            }
            int64_t id = 0;
            while (q < end && isdigit((unsigned char)*q)) {
                id = id * 10 + (*q - '0');
                if (id > 1000000000)
                    break;
                q++;
            }
            if (id < 1 || id > m) {
                st = srm_fail(err, SRM_EVALUE, "line %lld: unknown alternative id %lld (NUMBER ALTERNATIVES is %lld)",
                              (long long)line_no, (long long)id, (long long)m);
                break;
            }
            if (lv[id - 1] >= 0) {
                st = srm_fail(err, SRM_EVALUE, "line %lld: alternative %lld appears twice", (long long)line_no, (long long)id);
                break;
            }
            lv[id - 1] = level;
            n_ranked++;
            seen_any = 1;
            if (in_group)
                group_size++;
            else
                level++;
            expect_item = 0;
        }
        if (st != SRM_OK)
            break;
        if (in_group) {
            st = srm_fail(err, SRM_EVALUE, "line %lld: truncated order (unclosed '{')", (long long)line_no);
            break;
        }
        if (seen_any && expect_item) {
            st = srm_fail(err, SRM_EVALUE, "line %lld: truncated order (ends with ',')", (long long)line_no);
            break;
        }
        if (complete && n_ranked != m) {
            st = srm_fail(err, SRM_EVALUE, "line %lld: ranks %d of %lld alternatives in a complete-order file (%s)",
                          (long long)line_no, (int)n_ranked, (long long)m, type);
            break;
        }
        /* levels are dense by construction: '{}' is rejected above */
    }
    if (st == SRM_OK) {
        const double diff = fabs(total - (double)n_voters);
        if (allow_real_counts ? diff > 1e-9 * fmax(1.0, (double)n_voters) : diff != 0.0)
            st = srm_fail(err, SRM_EVALUE, "data: counts add up to %.17g, but NUMBER VOTERS is %lld", total, (long long)n_voters);
    }
    if (name_of != NULL)
        for (int64_t i = 0; i < m; i++)
            free(name_of[i]);
    free(name_of);
    free(value);
    if (st != SRM_OK)
        srm_preflib_free(out);
    return st;
}

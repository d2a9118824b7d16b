/* Saving and loading a parameter store in the safetensors format (DESIGN §7). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socialrm/params.h"

#define MAX_HEADER ((uint64_t)100 << 20) /* a header above 100 MiB is taken as corruption */

static int little_endian(void) {
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Append to a growable string; returns 0 or -1 (out of memory). */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static int sb_add(strbuf *b, const char *text, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            return -1;
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int sb_str(strbuf *b, const char *text) { return sb_add(b, text, strlen(text)); }

srm_status srm_params_save(const srm_params *p, const char *path, const char *metadata_json, srm_error *err) {
    if (!p->data)
        return srm_fail(err, SRM_ERUNTIME, "save: parameters are not allocated");
    if (!little_endian())
        return srm_fail(err, SRM_ERUNTIME, "save: big-endian hosts are not supported");
    if (metadata_json && metadata_json[0] != '{')
        return srm_fail(err, SRM_EVALUE, "save: metadata must be a JSON object");
    strbuf h = {0};
    char item[SRM_PARAM_NAME_LEN + 256];
    int bad = sb_str(&h, "{");
    if (metadata_json)
        bad |= sb_str(&h, "\"__metadata__\":") | sb_str(&h, metadata_json) | sb_str(&h, ",");
    uint64_t off = 0;
    for (int i = 0; i < p->n_tensors; i++) {
        const srm_tensor_info *t = &p->tensors[i];
        int n = snprintf(item, sizeof item, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", i ? "," : "", t->name);
        bad |= sb_add(&h, item, (size_t)n);
        for (int k = 0; k < t->ndim; k++) {
            n = snprintf(item, sizeof item, "%s%lld", k ? "," : "", (long long)t->shape[k]);
            bad |= sb_add(&h, item, (size_t)n);
        }
        n = snprintf(item, sizeof item, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                     (unsigned long long)(off + 4 * (uint64_t)t->size));
        bad |= sb_add(&h, item, (size_t)n);
        off += 4 * (uint64_t)t->size;
    }
    bad |= sb_str(&h, "}");
    while (!bad && h.len % 8 != 0)
        bad |= sb_str(&h, " ");
    if (bad) {
        free(h.s);
        return srm_fail(err, SRM_ENOMEM, "save: out of memory building the header");
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        free(h.s);
        return srm_fail(err, SRM_ENOMEM, "save: out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    srm_status st = SRM_OK;
    if (!f) {
        st = srm_fail(err, SRM_ERUNTIME, "save: cannot open '%s' for writing (%s)", tmp, strerror(errno));
    } else {
        uint8_t len8[8];
        for (int i = 0; i < 8; i++)
            len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
        int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(h.s, 1, h.len, f) == h.len;
        for (int i = 0; ok && i < p->n_tensors; i++)
            ok = fwrite(p->data + p->tensors[i].offset, sizeof(float), p->tensors[i].size, f) == p->tensors[i].size;
        ok = (fclose(f) == 0) && ok;
        if (!ok)
            st = srm_fail(err, SRM_ERUNTIME, "save: writing '%s' failed (%s)", tmp, strerror(errno));
        else if (rename(tmp, path) != 0)
            st = srm_fail(err, SRM_ERUNTIME, "save: cannot rename '%s' to '%s' (%s)", tmp, path, strerror(errno));
        if (st != SRM_OK)
            remove(tmp);
    }
    free(tmp);
    free(h.s);
    return st;
}

/* The object that follows the key "<name>": in the header (a quote not escaped), or NULL. */
static const char *find_entry(const char *header, const char *name) {
    char key[SRM_PARAM_NAME_LEN + 4];
    snprintf(key, sizeof key, "\"%s\":", name);
    for (const char *s = strstr(header, key); s; s = strstr(s + 1, key))
        if (s == header || s[-1] != '\\')
            return s + strlen(key);
    return NULL;
}

/* Parses "[a,b,...]" after `field` inside the entry; returns the count or -1. */
static int parse_ints(const char *entry, const char *field, uint64_t *out, int max) {
    const char *s = strstr(entry, field);
    const char *end = strchr(entry, '}');
    if (!s || (end && s > end))
        return -1;
    s = strchr(s, '[');
    if (!s)
        return -1;
    s++;
    int n = 0;
    while (*s == ' ')
        s++;
    if (*s == ']')
        return 0;
    for (;;) {
        char *e;
        errno = 0;
        unsigned long long v = strtoull(s, &e, 10);
        if (e == s || errno != 0 || n >= max)
            return -1;
        out[n++] = v;
        s = e;
        while (*s == ' ')
            s++;
        if (*s == ']')
            return n;
        if (*s != ',')
            return -1;
        s++;
    }
}

srm_status srm_params_load(srm_params *p, const char *path, srm_error *err) {
    if (!p->data)
        return srm_fail(err, SRM_ERUNTIME, "load: parameters are not allocated");
    if (!little_endian())
        return srm_fail(err, SRM_ERUNTIME, "load: big-endian hosts are not supported");
    FILE *f = fopen(path, "rb");
    if (!f)
        return srm_fail(err, SRM_EVALUE, "load: cannot open '%s' (%s)", path, strerror(errno));
    char *header = NULL;
    float *staged = NULL;
    srm_status st = SRM_OK;
    uint8_t len8[8];
    uint64_t hlen = 0;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 8 || fseek(f, 0, SEEK_SET) != 0 || fread(len8, 1, 8, f) != 8) {
        st = srm_fail(err, SRM_EVALUE, "load: '%s' is not a safetensors file (too short)", path);
        goto done;
    }
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)len8[i] << (8 * i);
    if (hlen < 2 || hlen > MAX_HEADER || hlen > (uint64_t)size - 8) {
        st = srm_fail(err, SRM_EVALUE, "load: '%s' has a corrupt header length (%llu for a %ld-byte file)", path,
                      (unsigned long long)hlen, size);
        goto done;
    }
    header = malloc(hlen + 1);
    staged = malloc((p->n ? p->n : 1) * sizeof(float));
    if (!header || !staged) {
        st = srm_fail(err, SRM_ENOMEM, "load: out of memory");
        goto done;
    }
    if (fread(header, 1, hlen, f) != hlen) {
        st = srm_fail(err, SRM_EVALUE, "load: '%s' is truncated in its header", path);
        goto done;
    }
    header[hlen] = '\0';
    if (header[0] != '{') {
        st = srm_fail(err, SRM_EVALUE, "load: '%s' has a corrupt header (not a JSON object)", path);
        goto done;
    }
    const uint64_t data_len = (uint64_t)size - 8 - hlen;
    int n_entries = 0;
    for (const char *s = strstr(header, "\"data_offsets\""); s; s = strstr(s + 1, "\"data_offsets\""))
        n_entries++;
    if (n_entries != p->n_tensors) {
        st = srm_fail(err, SRM_EVALUE, "load: '%s' holds %d tensors, the model has %d", path, n_entries,
                      p->n_tensors);
        goto done;
    }
    memcpy(staged, p->data, p->n * sizeof(float));
    for (int i = 0; i < p->n_tensors; i++) {
        const srm_tensor_info *t = &p->tensors[i];
        const char *e = find_entry(header, t->name);
        uint64_t shape[SRM_PARAM_MAX_DIM + 1], offs[3];
        if (!e) {
            st = srm_fail(err, SRM_EVALUE, "load: '%s' has no tensor '%s'", path, t->name);
            goto done;
        }
        const char *dtype = strstr(e, "\"dtype\"");
        const char *close = strchr(e, '}');
        const char *f32 = dtype ? strstr(dtype, "\"F32\"") : NULL;
        if (!close || !dtype || dtype > close || !f32 || f32 > close) {
            st = srm_fail(err, SRM_EVALUE, "load: tensor '%s' is not F32", t->name);
            goto done;
        }
        int nd = parse_ints(e, "\"shape\"", shape, SRM_PARAM_MAX_DIM + 1);
        int same = nd == t->ndim;
        for (int k = 0; same && k < nd; k++)
            same = shape[k] == (uint64_t)t->shape[k];
        if (!same) {
            st = srm_fail(err, SRM_EVALUE, "load: tensor '%s' has a different shape in '%s'", t->name, path);
            goto done;
        }
        if (parse_ints(e, "\"data_offsets\"", offs, 3) != 2 || offs[1] < offs[0] ||
            offs[1] - offs[0] != 4 * (uint64_t)t->size || offs[1] > data_len) {
            st = srm_fail(err, SRM_EVALUE, "load: tensor '%s' has corrupt data offsets or the file is truncated",
                          t->name);
            goto done;
        }
        if (fseek(f, (long)(8 + hlen + offs[0]), SEEK_SET) != 0 ||
            fread(staged + t->offset, sizeof(float), t->size, f) != t->size) {
            st = srm_fail(err, SRM_EVALUE, "load: '%s' is truncated in tensor '%s'", path, t->name);
            goto done;
        }
    }
    memcpy(p->data, staged, p->n * sizeof(float)); /* all or nothing */
done:
    fclose(f);
    free(header);
    free(staged);
    return st;
}

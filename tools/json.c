/*
 * kvstore CLI - JSON output (--json). Field names are documented in
 * docs/cli.md and stable.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <string.h>

bool cli_utf8_valid(const void *s, size_t len)
{
    const unsigned char *p = s;

    for (size_t i = 0; i < len;) {
        size_t n = cli_utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

void cli_json_string(FILE *f, const void *s, size_t len)
{
    const unsigned char *p = s;

    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20 || c == 0x7F)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static void base64(FILE *f, const unsigned char *p, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;

    fputc('"', f);
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        fputc(tab[v >> 18], f);
        fputc(tab[(v >> 12) & 63], f);
        fputc(tab[(v >> 6) & 63], f);
        fputc(tab[v & 63], f);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        fputc(tab[v >> 18], f);
        fputc(tab[(v >> 12) & 63], f);
        fputs("==", f);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        fputc(tab[v >> 18], f);
        fputc(tab[(v >> 12) & 63], f);
        fputc(tab[(v >> 6) & 63], f);
        fputc('=', f);
    }
    fputc('"', f);
}

void cli_json_value(FILE *f, const char *name, const void *v, size_t len)
{
    if (cli_utf8_valid(v, len)) {
        fprintf(f, "\"%s\":", name);
        cli_json_string(f, v, len);
    } else {
        fprintf(f, "\"%s_base64\":", name);
        base64(f, v, len);
    }
}

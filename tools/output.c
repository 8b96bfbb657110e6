/*
 * kvstore CLI - messages, exact output and value input.
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The attribute lets -Wformat=2 check the callers' formats instead. */
__attribute__((format(printf, 2, 0)))
static void vmessage(const cli_ctx *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vmessage(const cli_ctx *ctx, const char *fmt, va_list ap)
{
    fputs("kvstore", stderr);
    if (ctx && ctx->cmd)
        fprintf(stderr, " %s", ctx->cmd);
    fputs(": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_error(const cli_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(ctx, fmt, ap);
    va_end(ap);
    return code;
}

int cli_usage(const cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(ctx, fmt, ap);
    va_end(ap);
    if (ctx && ctx->cmd)
        fprintf(stderr, "Try 'kvstore %s --help'.\n", ctx->cmd);
    else
        fputs("Try 'kvstore --help'.\n", stderr);
    return EXIT_USAGE;
}

int cli_lib_error(const cli_ctx *ctx, const char *what)
{
    /* Copy first: the message is only valid until the next kvstore_ call. */
    return cli_error(ctx, EXIT_BACKEND, "%s: %s", what, kvstore_errmsg());
}

bool cli_write(const void *p, size_t len)
{
    return len == 0 || fwrite(p, 1, len, stdout) == len;
}

size_t cli_utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

void cli_write_escaped(FILE *f, const void *s, size_t len)
{
    const unsigned char *p = s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t n = cli_utf8_seq(p + i, len - i);
        if (c == '\\') {
            fputs("\\\\", f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (n == 0 || c < 0x20 || c == 0x7F) {
            fprintf(f, "\\x%02x", c);
            n = 1;
        } else {
            fwrite(p + i, 1, n, f);
            i += n;
            continue;
        }
        i += 1;
    }
}

int cli_finish_stdout(const cli_ctx *ctx, int code)
{
    /* A full disk or a closed pipe must not look like success. */
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_error(ctx, EXIT_BACKEND, "cannot write to stdout: %s",
                         strerror(errno));
    return code;
}

static int read_all_stdin(const cli_ctx *ctx, void **buf, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    if (!b)
        return cli_error(ctx, EXIT_BACKEND, "out of memory");
    for (;;) {
        if (n == cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return cli_error(ctx, EXIT_BACKEND, "out of memory");
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(STDIN_FILENO, b + n, cap - n);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            free(b);
            return cli_error(ctx, EXIT_BACKEND, "cannot read stdin: %s",
                             strerror(err));
        }
        n += (size_t)r;
    }
    *buf = b;
    *len = n;
    return -1;
}

int cli_read_value(const cli_ctx *ctx, const char *arg, void **buf,
                   size_t *len, bool *owned)
{
    if (strcmp(arg, "-") == 0) {
        *owned = true;
        return read_all_stdin(ctx, buf, len);
    }
    *owned = false;
    *buf = (void *)arg;
    *len = strlen(arg);
    return -1;
}

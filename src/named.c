/*
 * Named stores: kvstore_open("@name") opens the URI that the store config
 * file gives `name`. The file is $KVSTORE_CONFIG, else
 * $XDG_CONFIG_HOME/kvstore/stores.conf, else ~/.config/kvstore/stores.conf;
 * each line is "name = URI", with blank lines and "#" comments.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define LINE_MAX_BYTES 8192
#define NAME_MAX_BYTES 64

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

static bool name_valid(const char *s, size_t len)
{
    if (len == 0 || len > NAME_MAX_BYTES)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

/* The config file's path into buf, or an error. secure_getenv: a setuid
 * program must not be pointed at another user's file. */
static int config_path(char *buf, size_t cap)
{
    const char *env = secure_getenv("KVSTORE_CONFIG");
    const char *xdg = secure_getenv("XDG_CONFIG_HOME");
    const char *home = secure_getenv("HOME");
    int n;

    if (env && *env)
        n = snprintf(buf, cap, "%s", env);
    else if (xdg && *xdg == '/')
        n = snprintf(buf, cap, "%s/kvstore/stores.conf", xdg);
    else if (home && *home == '/')
        n = snprintf(buf, cap, "%s/.config/kvstore/stores.conf", home);
    else
        return kvstore_set_error(KVSTORE_ENOSTORE,
                                 "no store config file: set KVSTORE_CONFIG, "
                                 "XDG_CONFIG_HOME or HOME");
    if (n < 0 || (size_t)n >= cap)
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "the store config file's path is too long");
    return KVSTORE_OK;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
                     e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* A URI with userinfo carries a credential (a password, or a NATS token in
 * the user part). */
static bool has_credentials(const char *uri)
{
    const char *auth = strstr(uri, "://"), *end;

    if (auth == NULL)
        return false;
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    return memchr(auth, '@', (size_t)(end - auth)) != NULL;
}

static int lookup(FILE *f, const char *path, const char *name,
                  char **out)
{
    char line[LINE_MAX_BYTES + 2];
    unsigned lineno = 0;

    while (fgets(line, sizeof line, f) != NULL) {
        char *eq, *key, *val;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f))
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "%s:%u: line longer than %d bytes",
                                     path, lineno, LINE_MAX_BYTES);
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (eq == NULL)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "%s:%u: expected 'name = URI'", path,
                                     lineno);
        *eq = '\0';
        val = trim(eq + 1);
        key = trim(key);
        if (!name_valid(key, strlen(key)))
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "%s:%u: a store name is 1 to %d bytes "
                                     "of [A-Za-z0-9_.-]", path, lineno,
                                     NAME_MAX_BYTES);
        if (strcmp(key, name) != 0)
            continue;
        if (*val == '\0' || *val == '@')
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "%s:%u: store '%s' needs a URI (not "
                                     "another @name)", path, lineno, name);
        if (*out != NULL)
            return kvstore_set_error(KVSTORE_EINVAL,
                                     "%s:%u: store '%s' is named twice",
                                     path, lineno, name);
        *out = strdup(val);
        if (*out == NULL)
            return kvstore_set_error(KVSTORE_ENOMEM, "out of memory");
    }
    if (ferror(f))
        return kvstore_set_error(KVSTORE_EIO, "cannot read %s: %s", path,
                                 strerror(errno));
    return KVSTORE_OK;
}

int kvs_named_resolve(const char *at_name, char **out)
{
    char path[4096];
    const char *name = at_name + 1;
    struct stat st;
    FILE *f;
    int fd, rc;

    *out = NULL;
    if (!name_valid(name, strnlen(name, NAME_MAX_BYTES + 1)))
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "'@' must be followed by a store name of 1 "
                                 "to %d bytes of [A-Za-z0-9_.-]",
                                 NAME_MAX_BYTES);
    rc = config_path(path, sizeof path);
    if (rc != KVSTORE_OK)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kvstore_set_error(errno == ENOENT ? KVSTORE_ENOSTORE
                                 : errno == EACCES ? KVSTORE_EACCESS
                                                   : KVSTORE_EIO,
                                 "cannot read the store config file %s: %s",
                                 path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return kvstore_set_error(KVSTORE_EINVAL,
                                 "the store config file %s is not a regular "
                                 "file", path);
    }
    f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        return kvstore_set_error(KVSTORE_ENOMEM, "out of memory");
    }
    rc = lookup(f, path, name, out);
    fclose(f);
    if (rc == KVSTORE_OK && *out == NULL)
        rc = kvstore_set_error(KVSTORE_ENOSTORE,
                               "no store named '%s' in %s", name, path);
    if (rc == KVSTORE_OK && has_credentials(*out) &&
        (st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)) != 0)
        rc = kvstore_set_error(KVSTORE_EACCESS,
                               "refusing store '%s': %s holds a credential "
                               "and other users can read or write it (mode "
                               "%04o); run chmod 600 %s", name, path,
                               (unsigned)(st.st_mode & 07777), path);
    if (rc != KVSTORE_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/*
 * Credentials in URIs never reach a message or the CLI's command line.
 * tests/conformance (test_errmsg_hides_password) covers URIs that parse
 * and then fail (unknown or duplicate parameters, per backend); this adds
 * URIs that fail to parse at all, file-backend open failures, and the
 * CLI's other ways of getting a URI: KVSTORE_URL, --store-file, "@FILE"
 * arguments of copy, and --store=URI (the '=' form) masked in
 * /proc/PID/cmdline. And the CLI's default store is private (0700 and
 * 0600 whatever the umask). argv[1] is the kvstore binary (CLI tests are
 * skipped without it).
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <sys/stat.h>
#include <unistd.h>

#include "fx_conformance.h"

#define SECRET "s3cr3tpw"

static const char *cli_path;

/* Neither the decoded nor the encoded form of the password may show. */
static void assert_no_secret(const char *text, const char *what)
{
    if (strstr(text, SECRET) || strstr(text, "s3cr3t%70w"))
        fail_msg("%s shows the password: %s", what, text);
}

static void open_fails_quietly(const char *uri)
{
    kvstore_store *s = NULL;
    int rc = kvstore_open(&s, uri);

    if (rc == KVSTORE_OK) {
        kvstore_close(s);
        fail_msg("opened %s", uri);
    }
    assert_null(s);
    assert_no_secret(kvstore_errmsg(), uri);
}

static void parse_failures(void **state)
{
    (void)state;
    static const char *const uris[] = {
        "memory://kvuser:" SECRET "@host/%zz",       /* bad escape, path */
        "memory://kvuser:" SECRET "%zz@host",        /* ...in the password */
        "memory://kvuser:" SECRET "%4@host",         /* truncated escape */
        "memory://kvuser:s3cr3t%70w@host/%",         /* encoded password */
        "file://kvuser:" SECRET "@/tmp/x#fragment",
        "file://kvuser:" SECRET "@/tmp/x?",
        "file://kvuser:" SECRET "@/tmp/x?&",
        "file://kvuser:" SECRET "@/tmp/x?=1",
        "file://kvuser:" SECRET "@/tmp/x?a=1&",
        "redis://kvuser:" SECRET "@h:1/0\x01",
        "1bad://kvuser:" SECRET "@h",
        "://kvuser:" SECRET "@h",
        "nosuchscheme://" SECRET "@h",                /* a token */
        "nosuchscheme://kvuser:" SECRET "@h",
    };
    for (size_t i = 0; i < sizeof uris / sizeof *uris; i++)
        open_fails_quietly(uris[i]);

    /* Over-long, with the password at either end. */
    size_t n = 70000;
    char *big = malloc(n + 64);
    assert_non_null(big);
    int k = snprintf(big, n + 64, "memory://kvuser:%s@h/", SECRET);
    memset(big + k, 'a', n - (size_t)k);
    big[n] = '\0';
    open_fails_quietly(big);
    free(big);
}

static void file_open_failures(void **state)
{
    const char *dir = *state;
    char uri[4400];
    /* A host is refused; not a directory; no store and may not create;
     * a bad option value; an unknown option. */
    const char *dirs[5] = {"somehost/x", "/dev/null/x", dir, dir, dir};
    static const char *const tails[5] = {"", "", "/missing?create=false",
                                         "?sync=maybe", "?bogus=1"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(uri, sizeof uri, "file://kvuser:%s@%s%s", SECRET, dirs[i],
                 tails[i]);
        open_fails_quietly(uri);
    }
    /* A password in a file: URI cannot be checked by a directory, so a
     * valid store path with one is refused too (not opened with the
     * credentials silently ignored), and the refusal does not echo it. */
    snprintf(uri, sizeof uri, "file://kvuser:%s@%s?sync=false", SECRET, dir);
    kvstore_store *s = (kvstore_store *)1;
    assert_int_equal(kvstore_open(&s, uri), KVSTORE_EINVAL);
    assert_null(s);
    assert_no_secret(kvstore_errmsg(), "open");
    assert_non_null(strstr(kvstore_errmsg(), "credentials"));
    /* Nothing was created under the refused path. */
    assert_int_equal(count_entries(dir), 0);
}

/* How run_cli starts the CLI: KVSTORE_URL (NULL: unset), XDG_DATA_HOME
 * (NULL: inherited), and umask0 to run it under umask 0. */
typedef struct cli_env {
    const char *url;
    const char *xdg;
    bool umask0;
} cli_env;

/* Runs the CLI with argv `args` in `env`, stdin from /dev/null; returns
 * its exit status and its stdout+stderr in `out`. */
static int run_cli(cli_env env, char *const args[], char *out, size_t cap)
{
    char tmpl[] = "/tmp/kvs-sec-out-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    unlink(tmpl);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (env.url)
            setenv("KVSTORE_URL", env.url, 1);
        else
            unsetenv("KVSTORE_URL");
        if (env.xdg)
            setenv("XDG_DATA_HOME", env.xdg, 1);
        if (env.umask0)
            umask(0);
        execv(cli_path, args);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    ssize_t n = pread(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void cli_env_and_files(void **state)
{
    (void)state;
    if (cli_path == NULL)
        skip();
    const char *dir = *state;
    char out[8192], url[4400], file[4400], at[4500];
    const char *urls[2];
    char url2[4400];

    snprintf(url, sizeof url, "file://kvuser:%s@%s/missing?create=false",
             SECRET, dir);
    snprintf(url2, sizeof url2, "memory://kvuser:%s@h?bogus=1", SECRET);
    urls[0] = url;
    urls[1] = url2;
    for (int i = 0; i < 2; i++) {
        char *get[] = {"kvstore", "get", "k", NULL};
        int rc = run_cli((cli_env){ .url = urls[i] }, get, out, sizeof out);
        assert_int_equal(rc, 3);
        assert_no_secret(out, "KVSTORE_URL run");

        snprintf(file, sizeof file, "%s/uri%d", dir, i);
        char line[4500];
        snprintf(line, sizeof line, "%s\n", urls[i]);
        write_small(file, line);
        char *viafile[] = {"kvstore", "--store-file", file, "get", "k", NULL};
        rc = run_cli((cli_env){ 0 }, viafile, out, sizeof out);
        assert_int_equal(rc, 3);
        assert_no_secret(out, "--store-file run");
        assert_null(strstr(out, "warning")); /* nothing to warn about */

        snprintf(at, sizeof at, "@%s", file);
        char *copy[] = {"kvstore", "copy", at, "a", at, "b", NULL};
        rc = run_cli((cli_env){ 0 }, copy, out, sizeof out);
        assert_int_equal(rc, 3);
        assert_no_secret(out, "copy @FILE run");
    }
}

/* --store=URI and "-s URI" after the command: the CLI masks the password
 * in its own argv before it blocks reading the value from stdin. */
static void cli_store_masked(void **state)
{
    (void)state;
    if (cli_path == NULL)
        skip();
    static const char *const forms[][2] = {
        {"--store=file://kvuser:" SECRET "@/nonexistent-kvs", NULL},
        {"-s", "file://kvuser:" SECRET "@/nonexistent-kvs"},
    };
    for (int f = 0; f < 2; f++) {
        char *args[8];
        int a = 0;
        args[a++] = "kvstore";
        args[a++] = "set";
        args[a++] = "k";
        args[a++] = "-";
        args[a++] = (char *)forms[f][0];
        if (forms[f][1])
            args[a++] = (char *)forms[f][1];
        args[a] = NULL;
        /* The store cannot open: only the masking matters. */
        run_masked(cli_path, args, "", "@/nonexistent-kvs", SECRET);
    }
}

/* With no store given, the CLI creates $XDG_DATA_HOME/kvstore (and any
 * missing parent) 0700, and the default store's database in it is 0600,
 * even under umask 0. */
static void cli_default_store_private(void **state)
{
    (void)state;
    /* The default store needs the sqlite module (tests/cli/meson.build). */
    if (cli_path == NULL || getenv("KVSTORE_TEST_SQLITE") == NULL)
        skip();
    const char *dir = *state;
    char xdg[4200], path[4400], out[8192];

    snprintf(xdg, sizeof xdg, "%s/xdg/data", dir);
    char *set[] = {"kvstore", "-b", "priv", "set", "k", "v", NULL};
    int rc = run_cli((cli_env){ .xdg = xdg, .umask0 = true }, set, out,
                     sizeof out);
    if (rc != 0)
        fail_msg("kvstore set in the default store = %d: %s", rc, out);
    snprintf(path, sizeof path, "%s/xdg", dir);
    assert_int_equal(mode_of(path), 0700);
    assert_int_equal(mode_of(xdg), 0700);
    snprintf(path, sizeof path, "%s/kvstore", xdg);
    assert_int_equal(mode_of(path), 0700);
    snprintf(path, sizeof path, "%s/kvstore/kvstore.db", xdg);
    assert_int_equal(mode_of(path), 0600);
}

int main(int argc, char **argv)
{
    cli_path = argc > 1 ? argv[1] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_failures),
        DIR_TEST(file_open_failures),
        DIR_TEST(cli_env_and_files),
        cmocka_unit_test(cli_store_masked),
        DIR_TEST(cli_default_store_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Generates the kvstore(1) man page and the bash completion script from
 * the command table and the very --help texts the tool prints, so that
 * neither can drift from --help. Run by the build:
 *   kvstore-gen-docs man VERSION > kvstore.1
 *   kvstore-gen-docs bash > kvstore.bash
 *
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Writes text for troff: a backslash doubled, and a line starting with
 * '.' or '\'' protected so that it is not read as a request. */
static void troff_text(FILE *f, const char *s)
{
    bool bol = true;

    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        bol = *s == '\n';
    }
}

static char *help_text(void (*print)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (f == NULL)
        return NULL;
    print(f);
    fclose(f);
    return buf;
}

static void man(const char *version)
{
    char *main_help = help_text(cli_print_main_help);

    if (main_help == NULL)
        exit(1);
    printf(".TH KVSTORE 1 \"\" \"libkvstore %s\" \"User Commands\"\n",
           version);
    puts(".SH NAME\nkvstore \\- read, write, list and watch keys of a "
         "libkvstore store");
    puts(".SH SYNOPSIS\n.B kvstore\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR "
         "[\\fIARGS\\fR...]");
    puts(".SH DESCRIPTION\n.nf");
    troff_text(stdout, main_help);
    puts(".fi\n.SH COMMANDS");
    for (size_t i = 0; i < cli_n_commands; i++) {
        printf(".SS %s\n.nf\n", cli_commands[i]->name);
        troff_text(stdout, cli_commands[i]->help);
        puts(".fi");
    }
    puts(".SH ENVIRONMENT\n.TP\n.B KVSTORE_URL\nthe store when no "
         "\\-\\-store or \\-\\-store\\-file is given\n.TP\n"
         ".B KVSTORE_CONFIG\nthe store config file for @NAME stores\n.TP\n"
         ".B KVSTORE_BACKEND_PATH\ncolon\\-separated directories searched "
         "for backend modules");
    puts(".SH SEE ALSO\nThe libkvstore documentation: docs/cli.md and "
         "docs/api.md.");
    free(main_help);
}

/* Every "--name" in a help text, once each, space-separated. */
static void long_options(const char *help, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (const char *p = help; (p = strstr(p, "--")) != NULL;) {
        const char *q = p + 2;
        char word[64];
        size_t w = 0;

        while ((islower((unsigned char)*q) || *q == '-') && w + 1 < sizeof word)
            word[w++] = *q++;
        word[w] = '\0';
        p = q;
        if (w < 2 || word[w - 1] == '-')
            continue;
        char needle[70];
        snprintf(needle, sizeof needle, " --%s ", word);
        char padded[4100];
        snprintf(padded, sizeof padded, " %s ", out);
        if (strstr(padded, needle) != NULL)
            continue;
        int k = snprintf(out + n, cap - n, "%s--%s", n ? " " : "", word);
        if (k < 0 || (size_t)k >= cap - n)
            break;
        n += (size_t)k;
    }
}

static void bash(void)
{
    char *main_help = help_text(cli_print_main_help);
    char opts[4096];

    if (main_help == NULL)
        exit(1);
    puts("# bash completion for kvstore, generated from its --help texts");
    puts("_kvstore()\n{\n    local cur prev cmd i");
    puts("    cur=${COMP_WORDS[COMP_CWORD]}");
    puts("    prev=${COMP_WORDS[COMP_CWORD-1]}");
    puts("    case $prev in");
    puts("        -s|--store|-b|--bucket|-p|--prefix|-c|--cursor|-l|--limit"
         "|-t|--ttl) return ;;");
    puts("        --store-file) COMPREPLY=($(compgen -f -- \"$cur\")); "
         "return ;;");
    puts("    esac");
    puts("    cmd=");
    puts("    for ((i = 1; i < COMP_CWORD; i++)); do");
    puts("        case ${COMP_WORDS[i]} in");
    puts("            -s|--store|--store-file|-b|--bucket) ((i++)) ;;");
    puts("            -*) ;;");
    puts("            *) cmd=${COMP_WORDS[i]}; break ;;");
    puts("        esac");
    puts("    done");
    long_options(main_help, opts, sizeof opts);
    printf("    local global=\"%s\"\n", opts);
    puts("    case $cmd in");
    fputs("        '') COMPREPLY=($(compgen -W \"$global", stdout);
    for (size_t i = 0; i < cli_n_commands; i++)
        printf(" %s", cli_commands[i]->name);
    puts(" help\" -- \"$cur\")) ;;");
    for (size_t i = 0; i < cli_n_commands; i++) {
        long_options(cli_commands[i]->help, opts, sizeof opts);
        printf("        %s) COMPREPLY=($(compgen -W \"$global %s\" -- "
               "\"$cur\")) ;;\n", cli_commands[i]->name, opts);
    }
    puts("    esac\n}\ncomplete -F _kvstore kvstore");
    free(main_help);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "man") == 0)
        man(argv[2]);
    else if (argc == 2 && strcmp(argv[1], "bash") == 0)
        bash();
    else {
        fputs("usage: kvstore-gen-docs man VERSION | bash\n", stderr);
        return 2;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

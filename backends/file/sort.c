/*
 * libkvstore - file backend: byte-wise sort of a walk's keys.
 *
 * The first page of a listing sorts every key of the bucket, which made
 * qsort+strcmp a third of a full walk. An MSD radix sort looks at each
 * distinguishing byte once instead of comparing whole strings O(log n)
 * times. Its recursion depth is capped (long shared prefixes, e.g. a
 * guest's 1000-byte keys, fall back to qsort_r from that depth), and its
 * per-level counters live on the heap, so the stack stays small.
 *
 * SPDX-License-Identifier: MIT
 */
#include "file.h"

#include <stdlib.h>
#include <string.h>

#define RADIX_DEPTH 32   /* bytes examined by radix passes, at most */
#define SMALL 24         /* below this, insertion sort */

typedef struct sorter {
    char **tmp;                      /* scratch, n pointers */
    size_t count[RADIX_DEPTH][256];  /* per-depth bucket sizes */
    size_t pos[256];                 /* distribution cursor */
} sorter;

static int cmp_from(const void *a, const void *b, void *depth)
{
    size_t d = *(const size_t *)depth;
    return strcmp(*(char *const *)a + d, *(char *const *)b + d);
}

static void insertion(char **a, size_t n, size_t d)
{
    for (size_t i = 1; i < n; i++) {
        char *x = a[i];
        size_t j = i;
        while (j > 0 && strcmp(a[j - 1] + d, x + d) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* All strings of a[0..n) share their first d bytes. */
static void msd(sorter *s, char **a, size_t n, size_t d)
{
    if (n < SMALL) {
        insertion(a, n, d);
        return;
    }
    if (d >= RADIX_DEPTH) {
        qsort_r(a, n, sizeof *a, cmp_from, &d);
        return;
    }
    size_t *count = s->count[d];
    memset(count, 0, 256 * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[(unsigned char)a[i][d]]++;
    size_t sum = 0;
    for (int c = 0; c < 256; c++) {
        s->pos[c] = sum;
        sum += count[c];
    }
    for (size_t i = 0; i < n; i++)
        s->tmp[s->pos[(unsigned char)a[i][d]]++] = a[i];
    memcpy(a, s->tmp, n * sizeof *a);
    /* Bucket 0 holds the strings that end here: all equal. */
    size_t start = count[0];
    for (int c = 1; c < 256; c++) {
        if (count[c] > 1)
            msd(s, a + start, count[c], d + 1);
        start += count[c];
    }
}

bool kvf_sort_keys(char **keys, size_t n)
{
    if (n < SMALL) {
        insertion(keys, n, 0);
        return true;
    }
    sorter *s = malloc(sizeof *s);
    char **tmp = malloc(n * sizeof *tmp);
    if (s == NULL || tmp == NULL) {
        free(s);
        free(tmp);
        return false;
    }
    s->tmp = tmp;
    msd(s, keys, n, 0);
    free(tmp);
    free(s);
    return true;
}

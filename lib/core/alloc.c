/* The allocation wrappers, with a failure-injection counter for tests. */
#include "core/alloc.h"
#include "core/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned long alloc_count;   /* allocations since the last arming */
static unsigned long alloc_fail_nth; /* 0: never fail */

unsigned long pktcap__alloc_fail_at(unsigned long nth)
{
    unsigned long made = __atomic_exchange_n(&alloc_count, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&alloc_fail_nth, nth, __ATOMIC_SEQ_CST);
    return made;
}

/* Counts one allocation; true when this one is to fail. */
static int injected_failure(void)
{
    unsigned long n = __atomic_add_fetch(&alloc_count, 1, __ATOMIC_SEQ_CST);
    unsigned long nth = __atomic_load_n(&alloc_fail_nth, __ATOMIC_SEQ_CST);
    return nth != 0 && n == nth;
}

static void *out_of_memory(size_t size)
{
    pktcap__error_set(PKTCAP_E_NOMEM, "out of memory allocating %zu bytes", size);
    return NULL;
}

void *pktcap__malloc(size_t size)
{
    void *p = injected_failure() ? NULL : malloc(size ? size : 1);
    return p ? p : out_of_memory(size);
}

void *pktcap__calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return out_of_memory(SIZE_MAX);
    void *p = injected_failure() ? NULL : calloc(count ? count : 1, size ? size : 1);
    return p ? p : out_of_memory(count * size);
}

void *pktcap__realloc(void *ptr, size_t size)
{
    void *p = injected_failure() ? NULL : realloc(ptr, size ? size : 1);
    return p ? p : out_of_memory(size);
}

void *pktcap__reallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return out_of_memory(SIZE_MAX);
    return pktcap__realloc(ptr, count * size);
}

void *pktcap__grow(void *items, size_t *alloc, size_t count, size_t size)
{
    if (count < *alloc)
        return items;
    size_t slots = *alloc ? *alloc * 2 : 4;
    if (slots < *alloc)
        return out_of_memory(SIZE_MAX);
    void *grown = pktcap__reallocarray(items, slots, size);
    if (grown)
        *alloc = slots;
    return grown;
}

char *pktcap__strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = pktcap__malloc(len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *pktcap__strdup(const char *s)
{
    return pktcap__strndup(s, SIZE_MAX);
}

void pktcap__free(void *ptr)
{
    free(ptr);
}

void pktcap__free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

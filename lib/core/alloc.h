/* Internal: every allocation in libpktcap goes through these wrappers, so a
 * test can make the Nth allocation fail and walk every failure path. On
 * failure each wrapper records PKTCAP_E_NOMEM in the thread's error detail
 * and returns NULL; the caller only has to return PKTCAP_E_NOMEM. */
#ifndef PKTCAP_CORE_ALLOC_H
#define PKTCAP_CORE_ALLOC_H

#include <stddef.h>

void *pktcap__malloc(size_t size);
void *pktcap__calloc(size_t count, size_t size);
void *pktcap__realloc(void *ptr, size_t size);
/* realloc of count * size bytes, failing (not wrapping) on overflow. */
void *pktcap__reallocarray(void *ptr, size_t count, size_t size);
/* Room for one more element in a growing array that holds `count` of
 * `*alloc` slots: returns `items` when there is room, else the array grown
 * to twice its slots (4 at first), updating *alloc. NULL (PKTCAP_E_NOMEM
 * recorded, `items` untouched and still owned by the caller) on failure. */
void *pktcap__grow(void *items, size_t *alloc, size_t count, size_t size);
char *pktcap__strdup(const char *s);
char *pktcap__strndup(const char *s, size_t n);
void pktcap__free(void *ptr);
/* Frees a string that held a secret (password, client secret, token),
 * overwriting it first so it does not linger in freed memory. NULL is fine. */
void pktcap__free_secret(char *s);

/* Testing: make the nth allocation counted from now fail (1 = the next one);
 * 0 turns injection off. Returns how many allocations were made since the
 * previous call, so a test can learn how many a path needs. */
unsigned long pktcap__alloc_fail_at(unsigned long nth);

#endif

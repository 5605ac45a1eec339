/* A counting, failing allocator for the core suites, installed through
 * df_replace_allocator(). It counts what the library has allocated and not
 * yet freed, so a test can assert that nothing leaked, and it can fail
 * chosen allocations to drive the out-of-memory paths (after c-ares'
 * SetAllocFail). */
#ifndef DFT_ALLOC_H
#define DFT_ALLOC_H

#include <stddef.h>

/* Installs the allocator in the library. Returns df_replace_allocator()'s
 * answer. Call it before the library allocates anything. */
int dft_alloc_install(void);

/* Restores the C library's allocator. */
void dft_alloc_uninstall(void);

/* Blocks the library currently holds (allocations minus frees). */
long dft_alloc_outstanding(void);

/* Allocation calls (malloc, and realloc of NULL or to a new size) since the
 * last arming call below, failed or not. */
long dft_alloc_calls(void);

/* Allocation calls made to fail since the last arming call. */
long dft_alloc_failures(void);

/* Fails only the n-th allocation call from now (1 = the next one). */
void dft_alloc_fail_nth(long n);

/* Fails every allocation call from the n-th one from now on. */
void dft_alloc_fail_from(long n);

/* Stops failing and resets the call counters. */
void dft_alloc_fail_none(void);

/* Between pause and resume, allocation calls are neither counted nor
 * failed (their blocks are still counted as outstanding): for a test's own
 * bookkeeping in the middle of a failing run. */
void dft_alloc_pause(void);
void dft_alloc_resume(void);

#endif

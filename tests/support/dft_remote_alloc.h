/* A failing allocator for the remote suites, installed through
 * df_replace_allocator(): it fails the library's allocations by the thread
 * that makes them, so a test can starve the library's own threads (the
 * library thread, the fetcher, the NATS client's callback threads) while the
 * reactor thread keeps working, or fail one chosen allocation of the reactor
 * thread. The NATS client's own allocations do not go through it. */
#ifndef DFT_REMOTE_ALLOC_H
#define DFT_REMOTE_ALLOC_H

/* Installs the allocator (passing every allocation through until armed).
 * Call it before the library allocates anything; it stays installed. 0 or
 * df_replace_allocator()'s error. */
int dft_ralloc_install(void);

/* From now on, fails every allocation made on a thread other than the
 * calling one (the reactor thread). */
void dft_ralloc_fail_off_thread(void);

/* Fails the \p n-th allocation (1 = the next one) made on the calling
 * thread from now on; other threads are not failed. */
void dft_ralloc_fail_nth_here(long n);

/* Stops failing; the failure count is kept until the next arming call. */
void dft_ralloc_fail_none(void);

/* Allocations failed since the last arming call. Any thread. */
long dft_ralloc_failures(void);

#endif

/* Helpers shared by the pool suites: a reactor and a pool per test, a loop
 * that runs the reactor until a condition holds, gates that hold a job on
 * its worker, counted values and arguments, and a check that every callback
 * ran on the reactor thread (C1). */
#ifndef DFT_POOL_H
#define DFT_POOL_H

#include <CUnit/CUnit.h>
#include <deferred.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* ------------------------------------------------------------ environment */

/* The reactor and pool of the running test. */
typedef struct dft_pool_env {
  df_reactor *reactor;
  df_pool *pool;
} dft_pool_env;

extern dft_pool_env dft_pool;

/* Makes dft_pool.reactor and dft_pool.pool (threads, max_queued as in
 * df_pool_options) on this thread, which becomes the reactor thread. Returns
 * false (and records a CUnit failure) when either could not be made. */
bool dft_pool_begin(unsigned threads, size_t max_queued);

/* dft_pool_begin() with any options (an elastic pool, say). */
bool dft_pool_begin_opts(const df_pool_options *opts);

/* dft_pool_begin() without a pool: the test makes dft_pool.pool itself, or
 * leaves it NULL (dft_pool_end() accepts that). */
bool dft_pool_begin_reactor(void);

/* Frees the pool (closing it with DF_POOL_CANCEL when still open) and the
 * reactor, asserting both succeed, that every counted value and argument was
 * freed, and that no callback ran off the reactor thread. */
void dft_pool_end(void);

/* Runs reactor rounds until \p done(\p arg) is true; asserts it became true
 * (the loop gives up after about 30 seconds, so a lost wake-up fails the
 * test instead of hanging the suite). */
void dft_pool_run_until(bool (*done)(void *arg), void *arg);

/* dft_pool_run_until() on "*counter >= target". */
void dft_pool_run_until_count(const long *counter, long target);

/* dft_pool_run_until() on "the pool's completed counter >= n". */
void dft_pool_run_until_completed(uint64_t n);

/* Waits, without running the reactor, until \p done(\p arg) is true (what
 * the workers do meanwhile); asserts it became true (gives up after about 30
 * seconds). */
void dft_pool_wait(bool (*done)(void *arg), void *arg);

/* The pool's counters now (asserts df_pool_stats() succeeded). */
struct df_pool_stats dft_pool_stats(void);

/* ------------------------------------------------------------ threads */

/* Records the calling thread's identity against the reactor thread: the
 * callbacks of the suites call it, dft_pool_end() asserts it never differed. */
void dft_pool_check_reactor_thread(void);

/* Calls made off the reactor thread so far in this test. */
long dft_pool_wrong_thread_calls(void);

/* ------------------------------------------------------------ gates */

/* A gate holds the jobs that wait on it until it is opened. */
typedef struct dft_pool_gate {
  atomic_int entered; /* jobs that reached the gate */
  atomic_int open;
} dft_pool_gate;

void dft_pool_gate_init(dft_pool_gate *g);
/* Waits (on the worker) until the gate is open; counts the job in. */
void dft_pool_gate_pass(dft_pool_gate *g);
/* Waits (on the reactor thread, without running it) until \p n jobs
 * reached the gate. */
void dft_pool_gate_wait_entered(dft_pool_gate *g, int n);
void dft_pool_gate_open(dft_pool_gate *g);

/* ------------------------------------------------------------ meetings */

/* Jobs arrive at a meeting and wait until `expected` have arrived, or give
 * up after DFT_POOL_MEETING_GIVE_UP_SECONDS: jobs that must run at the same time
 * to finish, with no timing in the test (a violation fails, never hangs). */
#define DFT_POOL_MEETING_GIVE_UP_SECONDS 20

typedef struct dft_pool_meeting {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int arrived;
  int expected;
} dft_pool_meeting;

void dft_pool_meeting_init(dft_pool_meeting *m, int expected);
void dft_pool_meeting_destroy(dft_pool_meeting *m);

/* Counts \p count_in arrivals (0 or 1), then waits for `expected`; returns
 * how many had arrived when it stopped waiting (`expected` on success). */
int dft_pool_meeting_attend(dft_pool_meeting *m, int count_in);

/* A borrowed NULL value when \p seen reached `expected`, else a DF_ERROR
 * failure saying how many jobs ran at once. */
df_result dft_pool_meeting_result(const dft_pool_meeting *m, int seen);

/* A work function over a dft_pool_meeting: arrives and waits for the others. */
df_result dft_pool_work_meet(void *arg);

/* ------------------------------------------------------------ values */

/* A counted heap integer with its free function (df_free_fn): the tests
 * assert each was freed once, and on the reactor thread. */
long *dft_pool_value_new(long v);
void dft_pool_value_free(void *v);
long dft_pool_values_live(void);

/* A counted job argument with its destructor (df_arg_free_fn). */
typedef struct dft_pool_arg {
  long n;              /* input of the work */
  dft_pool_gate *gate; /* optional: the work waits on it first */
  atomic_int ran;      /* the work ran (set on the worker) */
} dft_pool_arg;
dft_pool_arg *dft_pool_arg_new(long n, dft_pool_gate *gate);
/* Job options handing a dft_pool_arg to the pool (arg_free =
 * dft_pool_arg_free). */
extern const df_job_options dft_pool_owned_arg;
void dft_pool_arg_free(void *arg);
long dft_pool_args_live(void);
long dft_pool_arg_frees(void);

/* ------------------------------------------------------------ work */

/* Work functions (df_work_fn) over a dft_pool_arg: pass its gate, then
 * - dft_pool_work_value: a counted value n * 3;
 * - dft_pool_work_fail: a DF_ERROR failure with code n;
 * - dft_pool_work_null: a borrowed NULL value. */
df_result dft_pool_work_value(void *arg);
df_result dft_pool_work_fail(void *arg);
df_result dft_pool_work_null(void *arg);

/* Work functions of the three kinds above that started since dft_pool_begin().
 */
long dft_pool_works_run(void);

/* ------------------------------------------------------------ outcomes */

/* What a Deferred of the pool fired with, recorded by dft_pool_watch(). */
typedef struct dft_pool_outcome {
  long fired; /* times the chain reached the step */
  long seq;   /* when: 1 for the first step run in the
                 test, 2 for the next, ... */
  bool success;
  long value;                /* the value's integer, if counted */
  const df_error_type *type; /* the failure's type */
  int code;
  char message[160];
} dft_pool_outcome;

/* Adds a df_add_both step recording into \p out (and checking the thread),
 * then drops the caller's reference to \p d. A failure is handled there. */
void dft_pool_watch(df_deferred *d, dft_pool_outcome *out);

/* ------------------------------------------------------------ holder */

/* A job that holds the only worker of a one-thread pool while the test
 * queues jobs behind it: when it lets the worker go, the worker finds them
 * all queued and takes them one by one. */
typedef struct dft_pool_holder {
  dft_pool_gate gate;
  dft_pool_outcome out;
} dft_pool_holder;

/* Submits the holding job and waits until the worker runs it. */
void dft_pool_hold_begin(dft_pool_holder *h);
/* Lets the worker go and runs the reactor until the holding job fired. */
void dft_pool_hold_end(dft_pool_holder *h);

/* ------------------------------------------------------------ batches */

/* Submits fn(arg) with dft_pool_arg_free and watches it (dft_pool_watch). */
void dft_pool_submit(df_work_fn fn, dft_pool_arg *arg, dft_pool_outcome *out);

/* Submits fn(arg) with dft_pool_arg_free and watches it (dft_pool_watch),
 * keeping a reference for the caller, who drops it with df_unref(). */
df_deferred *dft_pool_submit_watched(df_work_fn fn, dft_pool_arg *arg,
                                     dft_pool_outcome *out);

/* White-box: true when the pool's queue holds no job waiting to start. */
bool dft_pool_queue_empty(void);

/* Asserts submitted == queued + running + completed + cancelled. */
void dft_pool_assert_stats_add_up(void);

/* On a one-thread pool, behind a holder: the only worker starts the first
 * of two jobs, held on \p gate (initialised here); the second waits in the
 * queue behind it (this is asserted). Both are watched; the caller owns a
 * reference to each. */
void dft_pool_queue_pair(dft_pool_gate *gate, df_deferred **first,
                         dft_pool_outcome *first_out, df_deferred **second,
                         dft_pool_outcome *second_out);

#endif

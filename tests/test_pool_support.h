/* Helpers shared by the pool suites: a reactor and a pool per test, a loop
 * that runs the reactor until a condition holds, gates that hold a job on
 * its worker, counted values and arguments, and a check that every callback
 * ran on the reactor thread (C1). */
#ifndef TEST_POOL_SUPPORT_H
#define TEST_POOL_SUPPORT_H

#include <CUnit/CUnit.h>
#include <deferred.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* ------------------------------------------------------------ environment */

/* The reactor and pool of the running test. */
typedef struct tp_env {
  df_reactor *reactor;
  df_pool *pool;
} tp_env;

extern tp_env tp;

/* Makes tp.reactor and tp.pool (threads, max_queued as in df_pool_options)
 * on this thread, which becomes the reactor thread. Returns false (and
 * records a CUnit failure) when either could not be made. */
bool tp_begin(unsigned threads, size_t max_queued);

/* tp_begin() with any options (an elastic pool, say). */
bool tp_begin_opts(const df_pool_options *opts);

/* tp_begin() without a pool: the test makes tp.pool itself, or leaves it
 * NULL (tp_end() accepts that). */
bool tp_begin_reactor(void);

/* Frees the pool (closing it with DF_POOL_CANCEL when still open) and the
 * reactor, asserting both succeed, that every counted value and argument was
 * freed, and that no callback ran off the reactor thread. */
void tp_end(void);

/* Runs reactor rounds until \p done(\p arg) is true; asserts it became true
 * (the loop gives up after about 30 seconds, so a lost wake-up fails the
 * test instead of hanging the suite). */
void tp_run_until(bool (*done)(void *arg), void *arg);

/* tp_run_until() on "*counter >= target". */
void tp_run_until_count(const long *counter, long target);

/* tp_run_until() on "the pool's completed counter >= n". */
void tp_run_until_completed(uint64_t n);

/* Waits, without running the reactor, until \p done(\p arg) is true (what
 * the workers do meanwhile); asserts it became true (gives up after about 30
 * seconds). */
void tp_wait(bool (*done)(void *arg), void *arg);

/* The pool's counters now (asserts df_pool_stats() succeeded). */
struct df_pool_stats tp_stats(void);

/* ------------------------------------------------------------ threads */

/* Records the calling thread's identity against the reactor thread: the
 * callbacks of the suites call it, tp_end() asserts it never differed. */
void tp_check_reactor_thread(void);

/* Calls made off the reactor thread so far in this test. */
long tp_wrong_thread_calls(void);

/* ------------------------------------------------------------ gates */

/* A gate holds the jobs that wait on it until it is opened. */
typedef struct tp_gate {
  atomic_int entered; /* jobs that reached the gate */
  atomic_int open;
} tp_gate;

void tp_gate_init(tp_gate *g);
/* Waits (on the worker) until the gate is open; counts the job in. */
void tp_gate_pass(tp_gate *g);
/* Waits (on the reactor thread, without running it) until \p n jobs
 * reached the gate. */
void tp_gate_wait_entered(tp_gate *g, int n);
void tp_gate_open(tp_gate *g);

/* ------------------------------------------------------------ meetings */

/* Jobs arrive at a meeting and wait until `expected` have arrived, or give
 * up after TP_MEETING_GIVE_UP_SECONDS: jobs that must run at the same time
 * to finish, with no timing in the test (a violation fails, never hangs). */
#define TP_MEETING_GIVE_UP_SECONDS 20

typedef struct tp_meeting {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int arrived;
  int expected;
} tp_meeting;

void tp_meeting_init(tp_meeting *m, int expected);
void tp_meeting_destroy(tp_meeting *m);

/* Counts \p count_in arrivals (0 or 1), then waits for `expected`; returns
 * how many had arrived when it stopped waiting (`expected` on success). */
int tp_meeting_attend(tp_meeting *m, int count_in);

/* A borrowed NULL value when \p seen reached `expected`, else a DF_ERROR
 * failure saying how many jobs ran at once. */
df_result tp_meeting_result(const tp_meeting *m, int seen);

/* A work function over a tp_meeting: arrives and waits for the others. */
df_result tp_work_meet(void *arg);

/* ------------------------------------------------------------ values */

/* A counted heap integer with its free function (df_free_fn): the tests
 * assert each was freed once, and on the reactor thread. */
long *tp_value_new(long v);
void tp_value_free(void *v);
long tp_values_live(void);

/* A counted job argument with its destructor (df_arg_free_fn). */
typedef struct tp_arg {
  long n;         /* input of the work */
  tp_gate *gate;  /* optional: the work waits on it first */
  atomic_int ran; /* the work ran (set on the worker) */
} tp_arg;
tp_arg *tp_arg_new(long n, tp_gate *gate);
/* Job options handing a tp_arg to the pool (arg_free = tp_arg_free). */
extern const df_job_options tp_owned_arg;
void tp_arg_free(void *arg);
long tp_args_live(void);
long tp_arg_frees(void);

/* ------------------------------------------------------------ work */

/* Work functions (df_work_fn) over a tp_arg: pass its gate, then
 * - tp_work_value: a counted value n * 3;
 * - tp_work_fail: a DF_ERROR failure with code n;
 * - tp_work_null: a borrowed NULL value. */
df_result tp_work_value(void *arg);
df_result tp_work_fail(void *arg);
df_result tp_work_null(void *arg);

/* Work functions of the three kinds above that started since tp_begin(). */
long tp_works_run(void);

/* ------------------------------------------------------------ outcomes */

/* What a Deferred of the pool fired with, recorded by tp_watch(). */
typedef struct tp_outcome {
  long fired; /* times the chain reached the step */
  long seq;   /* when: 1 for the first step run in the
                 test, 2 for the next, ... */
  bool success;
  long value;                /* the value's integer, if counted */
  const df_error_type *type; /* the failure's type */
  int code;
  char message[160];
} tp_outcome;

/* Adds a df_add_both step recording into \p out (and checking the thread),
 * then drops the caller's reference to \p d. A failure is handled there. */
void tp_watch(df_deferred *d, tp_outcome *out);

/* ------------------------------------------------------------ holder */

/* A job that holds the only worker of a one-thread pool while the test
 * queues jobs behind it: when it lets the worker go, the worker finds them
 * all queued and takes them one by one. */
typedef struct tp_holder {
  tp_gate gate;
  tp_outcome out;
} tp_holder;

/* Submits the holding job and waits until the worker runs it. */
void tp_hold_begin(tp_holder *h);
/* Lets the worker go and runs the reactor until the holding job fired. */
void tp_hold_end(tp_holder *h);

/* ------------------------------------------------------------ batches */

/* Submits fn(arg) with tp_arg_free and watches it (tp_watch). */
void tp_submit(df_work_fn fn, tp_arg *arg, tp_outcome *out);

/* Submits fn(arg) with tp_arg_free and watches it (tp_watch), keeping a
 * reference for the caller, who drops it with df_unref(). */
df_deferred *tp_submit_watched(df_work_fn fn, tp_arg *arg, tp_outcome *out);

/* White-box: true when the pool's queue holds no job waiting to start. */
bool tp_queue_empty(void);

/* Asserts submitted == queued + running + completed + cancelled. */
void tp_assert_stats_add_up(void);

/* On a one-thread pool, behind a holder: the only worker starts the first
 * of two jobs, held on \p gate (initialised here); the second waits in the
 * queue behind it (this is asserted). Both are watched; the caller owns a
 * reference to each. */
void tp_queue_pair(tp_gate *gate, df_deferred **first, tp_outcome *first_out,
                   df_deferred **second, tp_outcome *second_out);

#endif

/* The reference article's first program, in C:
 *
 *   def getDummyData(inputData):
 *       print('getDummyData called')
 *       deferred = defer.Deferred()
 *       reactor.callLater(2, deferred.callback, inputData * 3)
 *       return deferred
 *
 *   def cbPrintData(result):
 *       print('Result received: {}'.format(result))
 *
 *   deferred = getDummyData(3)
 *   deferred.addCallback(cbPrintData)
 *   reactor.callLater(4, reactor.stop)
 *   reactor.run()
 *
 * It prints "getDummyData called", then "Result received: 9" two seconds
 * later, and stops after four seconds (real time).
 */
#include <deferred.h>
#include <stdio.h>
#include <stdlib.h>

static df_reactor *reactor;
static int printed;

/* What callLater(2, deferred.callback, inputData * 3) binds: the Deferred
 * (a reference of its own, so it lives while the timer is pending) and the
 * value. */
typedef struct delayed_result {
  df_deferred *deferred;
  int value;
} delayed_result;

static void fire_delayed_result(void *arg) {
  delayed_result *p = arg;
  int *value = malloc(sizeof *value);
  if (value == NULL) {
    df_errback(p->deferred, df_failure_new(&DF_NO_MEMORY, 0, "no memory"));
  } else {
    *value = p->value;
    df_callback(p->deferred, value, free);
  }
  df_unref(p->deferred);
  free(p);
}

/* A dummy which simulates a delayed result: it returns a Deferred that fires
 * with inputData * 3 in two seconds. */
static df_deferred *get_dummy_data(int input_data) {
  printf("getDummyData called\n");
  df_deferred *deferred = df_deferred_new(NULL, NULL);
  delayed_result *p = malloc(sizeof *p);
  if (deferred == NULL || p == NULL) {
    free(p);
    df_unref(deferred);
    return df_fail_now(df_failure_new(&DF_NO_MEMORY, 0, "no memory"));
  }
  p->deferred = df_ref(deferred);
  p->value = input_data * 3;
  if (df_call_later(NULL, reactor, 2.0, fire_delayed_result, p) != 0) {
    df_unref(p->deferred);
    free(p);
    df_errback(deferred, df_failure_new(&DF_NO_MEMORY, 0, "no timer"));
  }
  return deferred;
}

/* Handles the data by printing it; returns None, like the Python one. */
static df_result cb_print_data(df_result result, void *arg) {
  (void)arg;
  printf("Result received: %d\n", *(const int *)result.ptr);
  printed++;
  df_result_free(result);
  return df_ok(NULL, NULL);
}

static void stop_reactor(void *arg) { df_reactor_stop(arg); }

int main(void) {
  int rc = df_reactor_new(&reactor, NULL);
  if (rc != 0) {
    fprintf(stderr, "df_reactor_new: %s\n", df_strerror(rc));
    return 1;
  }
  df_deferred *deferred = get_dummy_data(3);
  df_add_callback(deferred, cb_print_data, NULL);
  df_unref(deferred); /* the pending timer keeps it alive */

  /* Manually set up the end of the process: stop in four seconds. */
  df_call_later(NULL, reactor, 4.0, stop_reactor, reactor);
  rc = df_reactor_run(reactor);
  if (rc != 0)
    fprintf(stderr, "df_reactor_run: %s\n", df_strerror(rc));
  if (df_reactor_free(reactor) != 0) {
    fprintf(stderr, "the reactor still had work\n");
    return 1;
  }
  return rc == 0 && printed == 1 ? 0 : 1;
}

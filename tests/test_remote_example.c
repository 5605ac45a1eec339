/* The deferred-worker example's job functions served through NATS by a
 * worker in this process: SHA-256 against the FIPS 180-2 examples, an
 * SQLite query and its error as the caller's own type, a sleep. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "dft_remote.h"
#include "worker_jobs.h"

typedef struct rig {
  dft_remote_env env;
  df_reactor *r;
  df_remote *rc;
  df_pool *pool;
  df_remote_worker *w;
} rig;

static const df_error_type *const known[] = {&DF_EXAMPLE_SQL_ERROR, NULL};

static void wait_ok(df_reactor *r, df_deferred *d) {
  dft_remote_outcome o;
  dft_remote_capture(d, &o);
  CU_ASSERT_TRUE_FATAL(dft_remote_run_until(r, &o.fired, 20));
  CU_ASSERT_TRUE_FATAL(o.ok);
}

static void rig_new(rig *g) {
  memset(g, 0, sizeof *g);
  dft_remote_env_init(&g->env, 5, 3);
  g->env.opts.error_types = known;
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&g->r, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(df_remote_new(&g->rc, g->r, &g->env.opts), 0);
  df_pool_options po = {.threads = 2};
  CU_ASSERT_EQUAL_FATAL(df_pool_new(&g->pool, g->r, &po), 0);
  df_remote_worker_options wo = {.remote = g->env.opts, .pool = g->pool};
  CU_ASSERT_EQUAL_FATAL(df_remote_worker_new(&g->w, g->r, &wo), 0);
  CU_ASSERT_EQUAL(df_example_register_jobs(g->w, NULL), 0);
  wait_ok(g->r, df_remote_worker_start(g->w));
}

static void rig_free(rig *g) {
  wait_ok(g->r, df_remote_worker_close(g->w, DF_REMOTE_FINISH));
  CU_ASSERT_EQUAL(df_remote_worker_free(g->w), 0);
  CU_ASSERT_EQUAL(df_remote_free(g->rc), 0);
  CU_ASSERT_EQUAL(df_pool_free(g->pool), 0);
  CU_ASSERT_EQUAL(df_reactor_free(g->r), 0);
}

static void run(rig *g, const char *job, const char *payload,
                dft_remote_outcome *o) {
  dft_remote_capture(df_remote_call(g->rc, job, payload, strlen(payload)), o);
  CU_ASSERT_TRUE(dft_remote_run_until(g->r, &o->fired, 20));
}

static void test_sha256(void) {
  static const struct {
    const char *in, *digest;
  } vectors[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc",
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  rig g;
  rig_new(&g);
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
    dft_remote_outcome o;
    run(&g, "sha256", vectors[i].in, &o);
    CU_ASSERT_TRUE(o.ok);
    CU_ASSERT_STRING_EQUAL(o.value, vectors[i].digest);
  }
  rig_free(&g);
}

static void test_sql_rows_and_error(void) {
  rig g;
  rig_new(&g);
  dft_remote_outcome o;
  run(&g, "sql", "select 2+3, 'five' union all select 7, 'seven'", &o);
  CU_ASSERT_TRUE(o.ok);
  CU_ASSERT_STRING_EQUAL(o.value, "5|five\n7|seven\n");
  run(&g, "sql", "select * from no_such_table", &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_EXAMPLE_SQL_ERROR);
  CU_ASSERT_EQUAL(o.code, 1); /* SQLITE_ERROR */
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "no_such_table"));
  rig_free(&g);
}

static void test_sleep(void) {
  rig g;
  rig_new(&g);
  dft_remote_outcome o;
  run(&g, "sleep", "30", &o);
  CU_ASSERT_TRUE(o.ok);
  CU_ASSERT_STRING_EQUAL(o.value, "slept 30 ms");
  run(&g, "sleep", "-5", &o);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  rig_free(&g);
}

static CU_TestInfo tests[] = {
    {"sha256 of the payload", test_sha256},
    {"sql: rows, and an error as the caller's type", test_sql_rows_and_error},
    {"sleep", test_sleep},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_remote_main("remote example jobs", tests); }

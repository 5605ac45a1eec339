/* The article's adbapi example (examples/adbapi_html.c), run as a program:
 * the query ran in the pool, its rows reached the callback that made the
 * HTML (S02), the wrong query skipped that callback and reached the errback
 * (S03), and a database that cannot be created fails the whole chain. */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dft_runner.h"

#ifndef ADBAPI_PROGRAM
#error "ADBAPI_PROGRAM must name the example's executable"
#endif

typedef struct run_output {
  int status; /* exit status, or -1 */
  char out[4096];
  char err[4096];
} run_output;

static int temp_file(char *path, size_t size) {
  const char *dir = getenv("TMPDIR");
  snprintf(path, size, "%s/adbapi-test-XXXXXX", dir != NULL ? dir : "/tmp");
  return mkstemp(path);
}

static void read_all(int fd, char *buf, size_t size) {
  size_t used = 0;
  ssize_t got;
  lseek(fd, 0, SEEK_SET);
  while (used < size - 1 && (got = read(fd, buf + used, size - 1 - used)) > 0)
    used += (size_t)got;
  buf[used] = '\0';
}

/* Runs the example with \p db as its argument. */
static void run_example(const char *db, run_output *r) {
  char out_path[512], err_path[512];
  int out = temp_file(out_path, sizeof out_path);
  int err = temp_file(err_path, sizeof err_path);
  r->status = -1;
  r->out[0] = r->err[0] = '\0';
  CU_ASSERT_FATAL(out >= 0 && err >= 0);
  unlink(out_path);
  unlink(err_path);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execl(ADBAPI_PROGRAM, ADBAPI_PROGRAM, db, (char *)NULL);
    _exit(127);
  }
  CU_ASSERT(pid > 0);
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
    r->status = WEXITSTATUS(status);
  read_all(out, r->out, sizeof r->out);
  read_all(err, r->err, sizeof r->err);
  close(out);
  close(err);
}

static void
test_s02_rows_become_html_and_s03_a_bad_query_reaches_the_errback(void) {
  char db[512];
  int fd = temp_file(db, sizeof db);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
  unlink(db); /* the example creates it */
  run_output r;
  run_example(db, &r);
  unlink(db);
  CU_ASSERT_EQUAL(r.status, 0);
  CU_ASSERT_STRING_EQUAL(r.out,
                         "<table>\n"
                         "<tr><th>id</th><th>name</th></tr>\n"
                         "<tr><td>1</td><td>Ada Lovelace</td></tr>\n"
                         "<tr><td>2</td><td>Tom &amp; Jerry</td></tr>\n"
                         "<tr><td>3</td><td>&lt;b&gt;bold&lt;/b&gt;</td></tr>\n"
                         "</table>\n");
  CU_ASSERT_PTR_NOT_NULL(
      strstr(r.err, "page failed: SqlError: no such table: no_such_table"));
  /* One error only: the good page's errback did not run. */
  CU_ASSERT_PTR_NULL(strstr(strstr(r.err, "page failed") + 1, "page failed"));
}

static void test_s03_failed_setup_skips_every_page(void) {
  run_output r;
  run_example("/nonexistent-directory/adbapi.db", &r);
  CU_ASSERT_EQUAL(r.status, 1); /* no page, one error */
  CU_ASSERT_STRING_EQUAL(r.out, "");
  CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "page failed: SqlError:"));
  CU_ASSERT_PTR_NULL(strstr(r.err, "no_such_table"));
}

static CU_TestInfo tests[] = {
    {"s02_rows_become_html_and_s03_a_bad_query_reaches_the_errback",
     test_s02_rows_become_html_and_s03_a_bad_query_reaches_the_errback},
    {"s03_failed_setup_skips_every_page",
     test_s03_failed_setup_skips_every_page},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_run("pool_adbapi", tests, NULL, NULL, NULL, NULL); }

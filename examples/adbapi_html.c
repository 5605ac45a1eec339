/* The reference article's adbapi scenario, in C: a database query runs as
 * blocking work on the pool and returns a Deferred; the web page adds a
 * callback that turns the rows into HTML and passes the Deferred on; an
 * error (here, a query on a table that does not exist) skips the callbacks
 * and goes down the errback chain instead.
 *
 *   adbapi-html [DATABASE]
 *
 * DATABASE is an SQLite file to create (default: a temporary file, removed
 * at the end). Prints one HTML table on stdout and one error on stderr, and
 * exits 0 when exactly that happened. */
#define _POSIX_C_SOURCE 200809L

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <deferred.h>

/* Errors of the database layer, like an exception class. */
static const df_error_type SQL_ERROR = {"SqlError", &DF_ERROR};

/* ---------------------------------------------------------------- worker side */

/* A query to run: the database file and the SQL. */
typedef struct query {
  const char *db_path;
  char *sql;
} query;

/* What a query returns: rows of (id, name). */
typedef struct row {
  long id;
  char *name;
} row;

typedef struct rows {
  size_t count;
  row *v;
} rows;

static void rows_free(void *p) {
  rows *r = p;
  for (size_t i = 0; i < r->count; i++)
    free(r->v[i].name);
  free(r->v);
  free(r);
}

static void query_free(void *p) {
  query *q = p;
  free(q->sql);
  free(q);
}

static df_result sql_failure(sqlite3 *db, int rc) {
  return df_fail(
      df_failure_new(&SQL_ERROR, rc, "%s",
                     db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

/* Blocking work, on a worker thread: creates the table the pages read. */
static df_result create_database(void *arg) {
  const char *path = arg;
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db,
                      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
                      "INSERT INTO users VALUES (1, 'Ada Lovelace');"
                      "INSERT INTO users VALUES (2, 'Tom & Jerry');"
                      "INSERT INTO users VALUES (3, '<b>bold</b>');",
                      NULL, NULL, NULL);
  df_result r = rc == SQLITE_OK ? df_ok(NULL, NULL) : sql_failure(db, rc);
  sqlite3_close(db);
  return r;
}

/* Blocking work, on a worker thread: runs the query (Twisted's
 * runQuery) and returns its rows, or a failure with SQLite's message. */
static df_result run_query(void *arg) {
  const query *q = arg;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  rows *out = calloc(1, sizeof *out);
  int rc = out == NULL
               ? SQLITE_NOMEM
               : sqlite3_open_v2(q->db_path, &db, SQLITE_OPEN_READONLY, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(db, q->sql, -1, &stmt, NULL);
  while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    row *grown = realloc(out->v, (out->count + 1) * sizeof *grown);
    const unsigned char *name = sqlite3_column_text(stmt, 1);
    if (grown == NULL) {
      rc = SQLITE_NOMEM;
      break;
    }
    out->v = grown;
    out->v[out->count].id = (long)sqlite3_column_int64(stmt, 0);
    out->v[out->count].name = strdup(name != NULL ? (const char *)name : "");
    out->count++;
    rc = SQLITE_OK;
  }
  df_result r = rc == SQLITE_DONE ? df_ok(out, rows_free) : sql_failure(db, rc);
  if (rc != SQLITE_DONE && out != NULL)
    rows_free(out);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return r;
}

/* ---------------------------------------------------------------- reactor side */

typedef struct app {
  df_reactor *reactor;
  df_pool *pool;
  const char *db_path;
  int pages;  /* pages printed */
  int errors; /* errors reported */
} app;

/* adbapi's runQuery: the query runs in the pool, a Deferred comes back. */
static df_deferred *run_query_async(app *a, const char *sql) {
  query *q = malloc(sizeof *q);
  if (q == NULL)
    return df_fail_now(df_failure_new(&DF_NO_MEMORY, 0, "query"));
  q->db_path = a->db_path;
  q->sql = strdup(sql);
  return df_defer_to_thread_opts(a->pool, run_query, q,
                                 &(df_job_options){.arg_free = query_free});
}

static void append_escaped(FILE *out, const char *s) {
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&':
      fputs("&amp;", out);
      break;
    case '<':
      fputs("&lt;", out);
      break;
    case '>':
      fputs("&gt;", out);
      break;
    case '"':
      fputs("&quot;", out);
      break;
    default:
      fputc(*s, out);
    }
  }
}

/* The page's callback: rows in, HTML out (the article's _toHTML). It runs
 * on the reactor thread, after the worker has finished. */
static df_result rows_to_html(df_result in, void *arg) {
  (void)arg;
  const rows *r = in.ptr;
  char *html = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&html, &len);
  if (out == NULL) {
    df_result_free(in);
    return df_fail(df_failure_new(&DF_NO_MEMORY, 0, "html"));
  }
  fputs("<table>\n<tr><th>id</th><th>name</th></tr>\n", out);
  for (size_t i = 0; i < r->count; i++) {
    fprintf(out, "<tr><td>%ld</td><td>", r->v[i].id);
    append_escaped(out, r->v[i].name);
    fputs("</td></tr>\n", out);
  }
  fputs("</table>\n", out);
  fclose(out);
  df_result_free(in); /* the rows are not needed any more */
  return df_ok(html, free);
}

static df_result print_page(df_result in, void *arg) {
  app *a = arg;
  fputs(in.ptr, stdout);
  a->pages++;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

/* The errback: the `except` of the page. It handles the failure (returns a
 * value), so the chain goes on as if nothing went wrong. */
static df_result print_error(df_result in, void *arg) {
  app *a = arg;
  char line[512];
  df_failure_describe(df_result_failure(in), line, sizeof line);
  fprintf(stderr, "page failed: %s\n", line);
  a->errors++;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

/* One web page: query, then HTML, then print; an error is printed instead. */
static df_deferred *render_page(app *a, const char *sql) {
  df_deferred *d = run_query_async(a, sql);
  df_add_callback(d, rows_to_html, NULL);
  df_add_callbacks(d, print_page, a, print_error, a);
  return d;
}

/* Once the database exists: two pages at once, one of them wrong. The chain
 * waits on the list of both (S26). */
static df_result render_pages(df_result in, void *arg) {
  app *a = arg;
  df_result_free(in);
  df_deferred *pages[2] = {
      render_page(a, "SELECT id, name FROM users ORDER BY id"),
      render_page(a, "SELECT id, name FROM no_such_table"),
  };
  df_deferred *both = df_list(pages, 2, 0);
  df_unref(pages[0]);
  df_unref(pages[1]);
  df_result r = df_wait(both);
  df_unref(both);
  return r;
}

static df_result stop_reactor(df_result in, void *arg) {
  app *a = arg;
  if (df_result_is_failure(in))
    (void)print_error(in, a);
  else
    df_result_free(in);
  df_reactor_stop(a->reactor);
  return df_ok(NULL, NULL);
}

static int make_temp_path(char *buf, size_t size) {
  const char *dir = getenv("TMPDIR");
  snprintf(buf, size, "%s/adbapi-XXXXXX", dir != NULL ? dir : "/tmp");
  int fd = mkstemp(buf);
  if (fd < 0)
    return -1;
  close(fd);
  return unlink(buf); /* SQLite creates it again */
}

int main(int argc, char **argv) {
  app a = {NULL, NULL, NULL, 0, 0};
  char temp[512];
  if (argc > 2) {
    fprintf(stderr, "usage: %s [DATABASE]\n", argv[0]);
    return 2;
  }
  if (argc == 2) {
    a.db_path = argv[1];
  } else if (make_temp_path(temp, sizeof temp) == 0) {
    a.db_path = temp;
  } else {
    perror("temporary database");
    return 1;
  }
  df_pool_options opts = {.threads = 2};
  if (df_reactor_new(&a.reactor, NULL) != 0 ||
      df_pool_new(&a.pool, a.reactor, &opts) != 0) {
    fprintf(stderr, "cannot start the reactor and the pool\n");
    df_reactor_free(a.reactor);
    return 1;
  }

  df_deferred *d =
      df_defer_to_thread(a.pool, create_database, (void *)a.db_path);
  df_add_callback(d, render_pages, &a);
  df_add_both(d, stop_reactor, &a);
  df_unref(d);
  df_reactor_run(a.reactor);

  df_pool_close(a.pool, DF_POOL_DRAIN);
  df_pool_free(a.pool);
  df_reactor_free(a.reactor);
  if (argc == 1)
    unlink(a.db_path);
  return a.pages == 1 && a.errors == 1 ? 0 : 1;
}

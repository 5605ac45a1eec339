/* The job functions of the deferred-worker example; see worker_jobs.h. They
 * run on the worker's pool threads: each keeps to its own state (the SQLite
 * connection is opened per job), and allocates its result with
 * df_bytes_new(). */
#define _POSIX_C_SOURCE 200809L

#include "worker_jobs.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const df_error_type DF_EXAMPLE_SQL_ERROR = {"SqlError", &DF_ERROR};
const df_error_type DF_EXAMPLE_STOPPED = {"Stopped", &DF_ERROR};

/* ------------------------------------------------------------ SHA-256 */

/* FIPS 180-4, section 6.2: one 64-byte block at a time. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) {
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
           (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
  }
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6],
           k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
                  ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) +
                  ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

void df_example_sha256_hex(const void *data, size_t len, char hex[65]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const unsigned char *p = data;
  size_t left = len;
  for (; left >= 64; p += 64, left -= 64) {
    sha256_block(h, p);
  }
  /* The tail, a 1 bit, zeros, and the length in bits (one or two blocks). */
  unsigned char tail[128] = {0};
  memcpy(tail, p, left);
  tail[left] = 0x80;
  size_t tail_len = left < 56 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) {
    tail[tail_len - 1 - i] = (unsigned char)(bits >> (8 * i));
  }
  for (size_t off = 0; off < tail_len; off += 64) {
    sha256_block(h, tail + off);
  }
  for (int i = 0; i < 8; i++) {
    snprintf(hex + 8 * i, 9, "%08x", (unsigned)h[i]);
  }
}

static df_result job_sha256(df_remote_job *job, void *arg) {
  (void)arg;
  size_t len = 0;
  const unsigned char *data = df_remote_job_data(job, &len);
  char hex[65];
  df_example_sha256_hex(data, len, hex);
  return df_ok(df_bytes_new(hex, 64), df_bytes_free);
}

/* ------------------------------------------------------------ sleep */

static df_result job_sleep(df_remote_job *job, void *arg) {
  (void)arg;
  long ms = strtol((const char *)df_remote_job_data(job, NULL), NULL, 10);
  if (ms < 0 || ms > 60000) {
    return df_fail(df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                  "sleep: milliseconds from 0 to 60000"));
  }
  for (long slept = 0; slept < ms; slept += 10) {
    if (df_remote_job_stop_requested(job)) {
      return df_fail(df_failure_new(&DF_EXAMPLE_STOPPED, (int)slept,
                                    "stopped after %ld ms", slept));
    }
    struct timespec ts = {0, (ms - slept < 10 ? ms - slept : 10) * 1000000L};
    nanosleep(&ts, NULL);
  }
  char text[48];
  int n = snprintf(text, sizeof text, "slept %ld ms", ms);
  return df_ok(df_bytes_new(text, (size_t)n), df_bytes_free);
}

/* ------------------------------------------------------------ sql */

/* A growing text buffer for the rows. */
typedef struct text {
  char *p;
  size_t len, cap;
  bool failed;
} text;

static void append(text *t, const char *s, size_t n) {
  if (t->failed)
    return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = (t->len + n + 1) * 2;
    char *p = realloc(t->p, cap);
    if (p == NULL) {
      t->failed = true;
      return;
    }
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
}

static df_result sql_failure(sqlite3 *db, int rc) {
  return df_fail(
      df_failure_new(&DF_EXAMPLE_SQL_ERROR, rc, "%s",
                     db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

static df_result job_sql(df_remote_job *job, void *arg) {
  const char *database = arg;
  sqlite3 *db = NULL;
  int flags = database != NULL ? SQLITE_OPEN_READONLY
                               : SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY;
  int rc = sqlite3_open_v2(database != NULL ? database : ":memory:", &db, flags,
                           NULL);
  if (rc != SQLITE_OK) {
    df_result r = sql_failure(db, rc);
    sqlite3_close(db);
    return r;
  }
  sqlite3_stmt *st = NULL;
  rc = sqlite3_prepare_v2(db, (const char *)df_remote_job_data(job, NULL), -1,
                          &st, NULL);
  text out = {0};
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); c++) {
      const unsigned char *v = sqlite3_column_text(st, c);
      if (c > 0)
        append(&out, "|", 1);
      if (v != NULL)
        append(&out, (const char *)v, strlen((const char *)v));
    }
    append(&out, "\n", 1);
    rc = SQLITE_OK;
  }
  df_result r;
  if (rc != SQLITE_DONE) {
    r = sql_failure(db, rc);
  } else if (out.failed) {
    r = df_fail(df_failure_new(&DF_NO_MEMORY, 0, "sql: rows"));
  } else {
    r = df_ok(df_bytes_new(out.p, out.len), df_bytes_free);
  }
  free(out.p);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return r;
}

int df_example_register_jobs(df_remote_worker *w, const char *database) {
  int rc = df_remote_worker_register(w, "sha256", job_sha256, NULL);
  if (rc == 0)
    rc = df_remote_worker_register(w, "sleep", job_sleep, NULL);
  if (rc == 0)
    rc = df_remote_worker_register(w, "sql", job_sql, (void *)database);
  return rc;
}

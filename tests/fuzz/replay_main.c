/* The plain build's driver of a fuzz target: runs every file of the
 * committed corpus (the directory given as the argument), then random
 * inputs made from it by a seeded PRNG (byte flips, random bytes, inserts,
 * deletions, truncation, splices of two corpus files), so every build tests
 * the targets without libFuzzer. DF_FUZZ_RUNS random inputs (default 2000),
 * DF_FUZZ_SEED (default 1), DF_FUZZ_SECONDS: go on with more random inputs
 * until that many seconds have passed. A crash prints the input that caused
 * it, in hex, and how to replay it. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dft_fuzz_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 512
#define MAX_LEN 600

typedef struct input {
  size_t len;
  uint8_t bytes[MAX_LEN];
} input;

static input corpus[MAX_FILES];
static size_t corpus_count;
static uint64_t rng;

/* The input running, for the crash report. */
static const uint8_t *running;
static size_t running_len;
static char running_what[128];

static unsigned pick(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return n == 0 ? 0 : (unsigned)(rng % n);
}

static void say_crash(void) {
  static const char hex[] = "0123456789abcdef";
  char line[2 * MAX_LEN + 256];
  size_t n = 0;
  const char *head = "\nthe input that crashed (";
  memcpy(line + n, head, strlen(head));
  n += strlen(head);
  memcpy(line + n, running_what, strlen(running_what));
  n += strlen(running_what);
  memcpy(line + n, "), hex:\n", 8);
  n += 8;
  for (size_t i = 0; i < running_len; i++) {
    line[n++] = hex[running[i] >> 4];
    line[n++] = hex[running[i] & 15];
  }
  line[n++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, n);
  (void)ignored;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the corpus, in name order so that runs are reproducible. */
static void read_corpus(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "cannot open the corpus %s\n", dir);
    exit(2);
  }
  char *names[MAX_FILES];
  size_t count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && count < MAX_FILES)
    if (e->d_name[0] != '.')
      names[count++] = strdup(e->d_name);
  closedir(d);
  qsort(names, count, sizeof names[0], by_name);
  for (size_t i = 0; i < count; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
      input *in = &corpus[corpus_count++];
      in->len = fread(in->bytes, 1, MAX_LEN, f);
      fclose(f);
    }
    free(names[i]);
  }
}

static void run(const uint8_t *data, size_t len) {
  running = data;
  running_len = len;
  LLVMFuzzerTestOneInput(data, len);
}

/* One random input: a corpus file changed a few times. */
static void mutate(input *in) {
  *in = corpus[pick((unsigned)corpus_count)];
  unsigned changes = 1 + pick(4);
  for (unsigned c = 0; c < changes; c++) {
    size_t at = in->len ? pick((unsigned)in->len) : 0;
    switch (pick(6)) {
    case 0:
      if (in->len)
        in->bytes[at] ^= (uint8_t)(1u << pick(8));
      break;
    case 1:
      if (in->len)
        in->bytes[at] = (uint8_t)pick(256);
      break;
    case 2:
      if (in->len < MAX_LEN) {
        memmove(in->bytes + at + 1, in->bytes + at, in->len - at);
        in->bytes[at] = (uint8_t)pick(256);
        in->len++;
      }
      break;
    case 3:
      if (in->len) {
        memmove(in->bytes + at, in->bytes + at + 1, in->len - at - 1);
        in->len--;
      }
      break;
    case 4:
      in->len = at;
      break;
    default: {
      const input *o = &corpus[pick((unsigned)corpus_count)];
      size_t from = o->len ? pick((unsigned)o->len) : 0;
      size_t n = o->len - from;
      if (at + n > MAX_LEN)
        n = MAX_LEN - at;
      memcpy(in->bytes + at, o->bytes + from, n);
      if (at + n > in->len)
        in->len = at + n;
      break;
    }
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS-DIRECTORY\n", argv[0]);
    return 2;
  }
  dft_watch_crashes(say_crash);
  read_corpus(argv[1]);
  if (corpus_count == 0) {
    fprintf(stderr, "the corpus %s is empty\n", argv[1]);
    return 2;
  }
  for (size_t i = 0; i < corpus_count; i++) {
    snprintf(running_what, sizeof running_what, "corpus file %zu", i + 1);
    run(corpus[i].bytes, corpus[i].len);
  }
  unsigned long seed = dft_env_number("DF_FUZZ_SEED", 1);
  unsigned long runs = dft_env_number("DF_FUZZ_RUNS", 2000);
  double seconds = (double)dft_env_number("DF_FUZZ_SECONDS", 0);
  rng = seed * 0x9E3779B97F4A7C15ULL + 1;
  double start = dft_monotonic_seconds();
  static input in;
  unsigned long done = 0;
  for (; done < runs || dft_monotonic_seconds() - start < seconds; done++) {
    mutate(&in);
    snprintf(running_what, sizeof running_what,
             "random input %lu of DF_FUZZ_SEED=%lu", done + 1, seed);
    run(in.bytes, in.len);
  }
  printf("%s: %zu corpus inputs, %lu random inputs (seed %lu), %.1f s\n",
         argv[0], corpus_count, done, seed, dft_monotonic_seconds() - start);
  return 0;
}

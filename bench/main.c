/* deferred-bench: runs the benchmark subcommands and optionally writes
 * their results as one JSON document. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

typedef int (*bench_fn)(int argc, char **argv, const df_bench_opts *o);

#ifdef DF_BENCH_HAVE_REMOTE
/* `remote`: jobs through NATS JetStream beside the local pool (remote.c). */
int df_bench_remote(int argc, char **argv, const df_bench_opts *o);
#endif

typedef struct bench_command {
  const char *name;
  bench_fn run;
  const char *summary;
} bench_command;

/* Subcommands built into this binary; pool and dns exist only when their
 * libraries (and libuv, for pool's baseline) were found at configure time. */
static const bench_command commands[] = {
    {"chain", df_bench_chain,
     "callback-chain throughput, allocations per Deferred, Twisted side by side"},
#ifdef DF_BENCH_HAVE_POOL
    {"pool", df_bench_pool,
     "thread-pool hand-offs and blocking jobs, libuv and a floor side by side"},
#endif
#ifdef DF_BENCH_HAVE_DNS
    {"dns", df_bench_dns, "resolver round trips"},
#endif
#ifdef DF_BENCH_HAVE_REMOTE
    {"remote", df_bench_remote,
     "jobs through NATS JetStream, the local pool side by side"},
#endif
#ifdef DF_BENCH_HAVE_POOL
    {"trace", df_bench_trace, "what a running trace costs per pool job"},
#endif
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out, const char *self) {
  fprintf(out,
          "usage: %s [--quick] [--[no-]callgrind] [--json FILE] "
          "[COMMAND [ARGS...]]\n"
          "\n"
          "Options may also follow the command (\"chain --quick\").\n"
          "\n"
          "  --quick      small N and few repetitions (smoke run)\n"
          "  --callgrind  count instructions under valgrind where a command\n"
          "               can (the default in a full run, not with --quick)\n"
          "  --no-callgrind  never run valgrind\n"
          "  --json FILE  also write every result as JSON to FILE\n"
          "  -h, --help   this text\n"
          "\n"
          "commands:\n",
          self);
  for (size_t i = 0; i < N_COMMANDS; i++) {
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  }
  fprintf(out, "  %-8s every command above (the default)\n", "all");
}

static const bench_command *find_command(const char *name) {
  for (size_t i = 0; i < N_COMMANDS; i++) {
    if (strcmp(commands[i].name, name) == 0) {
      return &commands[i];
    }
  }
  return NULL;
}

/* Runs every command with no arguments of its own; keeps going after a
 * failure so one broken part does not hide the others' numbers. */
static int run_all(const df_bench_opts *o) {
  int failed = 0;
  for (size_t i = 0; i < N_COMMANDS; i++) {
    char *sub_argv[2] = {(char *)commands[i].name, NULL};
    if (isatty(STDERR_FILENO)) /* progress, kept off logs and pipes */
      fprintf(stderr, "deferred-bench: [%zu/%zu] %s...\n", i + 1,
              (size_t)N_COMMANDS, commands[i].name);
    printf("==== %s ====\n", commands[i].name);
    fflush(stdout);
    if (commands[i].run(1, sub_argv, o) != 0) {
      fprintf(stderr, "%s: %s failed\n", o->self, commands[i].name);
      failed = 1;
    }
    printf("\n");
    fflush(stdout);
  }
  return failed;
}

/* Numbers from a debug or sanitized build say little about the library:
 * the header says which build made them. */
static void describe_build(const df_bench_opts *o) {
#ifdef DF_SANITIZED
  const char *sanitized = ", sanitized";
#else
  const char *sanitized = "";
#endif
  const char *type = DF_BENCH_BUILD_TYPE[0] ? DF_BENCH_BUILD_TYPE : "none";
  printf("deferred-bench: %s build%s%s\n", type, sanitized,
         o->quick ? ", quick run (smoke test, not a measurement)" : "");
  if (strcmp(type, "Release") != 0 || sanitized[0] != '\0') {
    printf("  (measure with -DCMAKE_BUILD_TYPE=Release and no sanitizer)\n");
  }
  df_bench_json_text(o->json, "run", "build_type", type);
  df_bench_json_text(o->json, "run", "sanitized", sanitized[0] ? "yes" : "no");
}

/* --quick, --json FILE and --help are accepted anywhere on the line (so
 * "chain --quick" works); everything else is kept, in order, in rest[]. */
static int parse_globals(int argc, char **argv, df_bench_opts *o,
                         const char **json_path, char **rest, int *n_rest) {
  *n_rest = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      o->quick = true;
    } else if (strcmp(argv[i], "--callgrind") == 0) {
      o->callgrind = DF_BENCH_CALLGRIND_ON;
    } else if (strcmp(argv[i], "--no-callgrind") == 0) {
      o->callgrind = DF_BENCH_CALLGRIND_OFF;
    } else if (strcmp(argv[i], "--json") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --json needs a file name\n", o->self);
        return 2;
      }
      *json_path = argv[++i];
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout, o->self);
      return 1;
    } else {
      rest[(*n_rest)++] = argv[i];
    }
  }
  rest[*n_rest] = NULL;
  return 0;
}

int main(int argc, char **argv) {
  df_bench_opts o = {false, NULL, argc > 0 ? argv[0] : "deferred-bench",
                     DF_BENCH_CALLGRIND_DEFAULT};
  const char *json_path = NULL;
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int n_rest = 0;
  if (rest == NULL) {
    return 1;
  }
  int parsed = parse_globals(argc, argv, &o, &json_path, rest, &n_rest);
  if (parsed != 0) {
    free(rest);
    return parsed == 1 ? 0 : 2;
  }
  if (n_rest > 0 && rest[0][0] == '-') {
    fprintf(stderr, "%s: unknown option '%s'\n", o.self, rest[0]);
    usage(stderr, o.self);
    free(rest);
    return 2;
  }

  const char *name = n_rest > 0 ? rest[0] : "all";
  const bench_command *cmd = NULL;
  if (strcmp(name, "all") != 0) {
    cmd = find_command(name);
    if (cmd == NULL) {
      fprintf(stderr, "%s: unknown command '%s' (not built here?)\n", o.self,
              name);
      usage(stderr, o.self);
      free(rest);
      return 2;
    }
  }

  if (json_path != NULL) {
    o.json = df_bench_json_open(json_path);
    if (o.json == NULL) {
      fprintf(stderr, "%s: cannot write %s: %s\n", o.self, json_path,
              strerror(errno));
      free(rest);
      return 1;
    }
    df_bench_json_text(o.json, "run", "mode", o.quick ? "quick" : "full");
  }

  describe_build(&o);
  int failed;
  if (cmd == NULL) {
    failed = run_all(&o);
  } else {
    /* The command sees its own name as argv[0], then its arguments. */
    failed = cmd->run(n_rest, rest, &o) != 0;
  }

  if (df_bench_json_close(o.json) != 0) {
    fprintf(stderr, "%s: writing %s failed\n", o.self, json_path);
    failed = 1;
  }
  free(rest);
  return failed ? 1 : 0;
}

/* DeferredList and gatherResults (S21-S25), as Twisted builds them: one
 * observer step appended to every member when the list is made. */
#include <string.h>

#include "deferred/list.h"
#include "internal.h"
#include "shared.h"

#define KNOWN_FLAGS                                                            \
  (DF_FIRE_ON_ONE_CALLBACK | DF_FIRE_ON_ONE_ERRBACK | DF_CONSUME_ERRORS)

struct list_state;

/* The argument of one member's observer step. */
struct observer {
  struct list_state *st;
  size_t index;
};

/* Shared by the list's Deferred (as its canceller's argument) and every
 * member's observer step; freed when all of them are gone. */
struct list_state {
  df_deferred *list; /* a reference, held until the list fires */
  unsigned flags;
  bool fired;
  size_t count;
  size_t finished;
  size_t refs;             /* observer steps alive, + 1 for the list */
  df_deferred **members;   /* references, for df_cancel (R8.9) */
  df_list_result *results; /* moves into the list's result when it fires */
  struct observer observers[];
};

static void state_release(struct list_state *st) {
  if (--st->refs != 0)
    return;
  for (size_t i = 0; i < st->count; i++)
    df_unref(st->members[i]);
  df__free(st->members);
  df_list_result_free(st->results);
  df_unref(st->list);
  df__free(st);
}

static void observer_done(void *arg) {
  struct observer *ob = arg;
  state_release(ob->st);
}

/* Fires the list once, handing over its reference to the list's Deferred. */
static void fire_list(struct list_state *st, df_result r) {
  df_deferred *list = st->list;
  st->list = NULL;
  st->fired = true;
  df_fire(list, r);
  df_unref(list);
}

/* Records \p in for the list and returns what the member's chain goes on
 * with. Both keep the value: failures and shared values gain a reference,
 * a plain owned value becomes shared by the two (shared.c), so whichever
 * lets go last frees it. Without memory for that, the list records a
 * DF_NO_MEMORY failure and the chain keeps its value. */
static df_result record(df_list_entry *e, df_result in) {
  e->success = !df_result_is_failure(in);
  e->result = in;
  if (!e->success) {
    df_failure_ref(in.ptr);
    return in;
  }
  if (in.free == NULL || in.ptr == NULL) /* borrowed, or nothing to share */
    return df_ok(in.ptr, NULL);
  if (df__share(&in)) {
    e->result = in;
    return in;
  }
  e->success = false;
  e->result = df_fail(df_failure_new(&DF_NO_MEMORY, DF_ENOMEM,
                                     "df_list: cannot share a value"));
  return in;
}

static df_result consume_or_pass(const struct list_state *st, df_result in) {
  if (df_result_is_failure(in) && (st->flags & DF_CONSUME_ERRORS)) {
    df_result_free(in); /* S22: the member's chain goes on with NULL */
    return df_ok(NULL, NULL);
  }
  return in;
}

static df_result fire_on_first_success(struct list_state *st, size_t i,
                                       df_result in) {
  df_list_first *first = df__malloc(sizeof *first);
  if (first == NULL) {
    fire_list(st, df_fail(df_failure_new(&DF_NO_MEMORY, DF_ENOMEM,
                                         "df_list: no memory for the result")));
    return in;
  }
  first->index = i;
  df_list_entry e;
  df_result pass = record(&e, in);
  first->result = e.result;
  fire_list(st, df_ok(first, df_list_first_free));
  return pass;
}

static df_result fire_on_first_failure(struct list_state *st, size_t i,
                                       df_result in) {
  df_failure *member = df_result_failure(in);
  fire_list(st, df_fail(df_failure_new_caused(&DF_FIRST_ERROR, (int)i, member,
                                              "member %zu failed: %s", i,
                                              df_failure_message(member))));
  return consume_or_pass(st, in);
}

static df_result observe(df_result in, void *arg) {
  struct observer *ob = arg;
  struct list_state *st = ob->st;
  bool ok = !df_result_is_failure(in);

  st->finished++;
  if (st->fired)
    return consume_or_pass(st, in);
  if (ok && (st->flags & DF_FIRE_ON_ONE_CALLBACK))
    return fire_on_first_success(st, ob->index, in);
  if (!ok && (st->flags & DF_FIRE_ON_ONE_ERRBACK))
    return fire_on_first_failure(st, ob->index, in);

  df_result pass = record(&st->results->entries[ob->index], in);
  if (st->finished == st->count) {
    df_list_result *all = st->results;
    st->results = NULL;
    fire_list(st, df_ok(all, df_list_result_free));
  }
  return consume_or_pass(st, pass);
}

/* The list's canceller (R8.9). Called with list == NULL when the list's
 * Deferred is released, which drops the list's reference to the state: the
 * values recorded before a fire-on-one outcome stay valid that long. */
static void cancel_members(df_deferred *list, void *arg) {
  struct list_state *st = arg;
  if (list == NULL) {
    state_release(st);
    return;
  }
  st->refs++; /* members firing may release every observer meanwhile */
  for (size_t i = 0; i < st->count; i++)
    df_cancel(st->members[i]);
  state_release(st);
}

static df_deferred *invalid(const char *what, size_t index) {
  return df_fail_now(
      df_failure_new(&DF_INVALID_ARGUMENT, (int)index, "%s", what));
}

static struct list_state *state_new(df_deferred *const *ds, size_t n,
                                    unsigned flags) {
  struct list_state *st =
      df__calloc(1, sizeof *st + n * sizeof(struct observer));
  if (st == NULL)
    return NULL;
  st->flags = flags;
  st->count = n;
  st->refs = 1;
  st->members = df__calloc(n ? n : 1, sizeof *st->members);
  st->results = df__calloc(1, sizeof *st->results + n * sizeof(df_list_entry));
  if (st->members == NULL || st->results == NULL) {
    df__free(st->members);
    df__free(st->results);
    df__free(st);
    return NULL;
  }
  st->results->count = n;
  for (size_t i = 0; i < n; i++) {
    st->members[i] = df_ref(ds[i]);
    st->observers[i].st = st;
    st->observers[i].index = i;
    st->results->entries[i].result = df_ok(NULL, NULL);
  }
  return st;
}

/* Appends member i's observer. Without memory for the step, the member
 * counts as failed with DF_NO_MEMORY, so the list still fires once. */
static void watch_member(struct list_state *st, size_t i) {
  st->refs++; /* the step's; its destructor releases it, even on failure */
  if (df_add_callbacks_full(st->members[i], observe, &st->observers[i], observe,
                            &st->observers[i], observer_done) != NULL)
    return;
  df_result lost = df_fail(df_failure_new(
      &DF_NO_MEMORY, DF_ENOMEM, "df_list: cannot watch member %zu", i));
  df_result_free(observe(lost, &st->observers[i]));
}

df_deferred *df_list(df_deferred *const *ds, size_t n, unsigned flags) {
  if (ds == NULL && n > 0)
    return invalid("df_list: ds is NULL", 0);
  if (flags & ~(unsigned)KNOWN_FLAGS)
    return invalid("df_list: unknown bits in flags", 0);
  for (size_t i = 0; i < n; i++)
    if (ds[i] == NULL)
      return invalid("df_list: a member of ds is NULL", i);

  struct list_state *st = state_new(ds, n, flags);
  if (st == NULL)
    return NULL;
  df_deferred *list = df_deferred_new(cancel_members, st);
  if (list == NULL) {
    state_release(st);
    return NULL;
  }
  /* st->refs == 1 is now the list Deferred's, released when it goes. */
  df__set_canceller_decides(list);
  df__set_canceller_owns_arg(list);
  if (n == 0) { /* R8.2: fires at once, never with fireOnOneCallback */
    if (!(flags & DF_FIRE_ON_ONE_CALLBACK)) {
      df_list_result *all = st->results;
      st->results = NULL;
      df_callback(list, all, df_list_result_free);
    }
    return list;
  }
  st->list = df_ref(list); /* the state's, until the list fires */
  for (size_t i = 0; i < n; i++)
    watch_member(st, i);
  return list;
}

df_deferred *df_gather(df_deferred *const *ds, size_t n, unsigned flags) {
  if (flags & ~(unsigned)DF_CONSUME_ERRORS)
    return invalid("df_gather: flags may only hold DF_CONSUME_ERRORS", 0);
  return df_list(ds, n, DF_FIRE_ON_ONE_ERRBACK | flags);
}

void df_list_result_free(void *list_result) {
  df_list_result *all = list_result;
  if (all == NULL)
    return;
  for (size_t i = 0; i < all->count; i++)
    df_result_free(all->entries[i].result);
  df__free(all);
}

void df_list_first_free(void *list_first) {
  df_list_first *first = list_first;
  if (first == NULL)
    return;
  df_result_free(first->result);
  df__free(first);
}

/* A binary min-heap of intrusive nodes, kept as a pointer tree.
 *
 * The reactor's timers embed a df__heap_node, so inserting or removing a
 * timer never allocates and never fails, and any node (not only the minimum)
 * can be removed in O(log n): that is what cancelling a timer needs. The tree
 * is complete: the node of 1-based index i sits at the end of the path given
 * by the bits of i below its top bit (0: left, 1: right), so the last slot is
 * found without storing an array.
 *
 * Ordering is the caller's: a "less than" function on two nodes. The timers
 * order by (deadline, sequence), so equal deadlines come out in the order
 * they were scheduled.
 *
 * Every function is static: including this header exports nothing.
 */
#ifndef DF_HEAP_INL_H
#define DF_HEAP_INL_H

#include <assert.h>
#include <stddef.h>

struct df__heap_node {
  struct df__heap_node *left;
  struct df__heap_node *right;
  struct df__heap_node *parent;
};

struct df__heap {
  struct df__heap_node *min;
  unsigned int count;
};

typedef int (*df__heap_less_fn)(const struct df__heap_node *a,
                                const struct df__heap_node *b);

#if defined(__GNUC__)
#define DF__HEAP_UNUSED __attribute__((unused))
#else
#define DF__HEAP_UNUSED
#endif

DF__HEAP_UNUSED static void df__heap_init(struct df__heap *heap) {
  heap->min = NULL;
  heap->count = 0;
}

DF__HEAP_UNUSED static struct df__heap_node *
df__heap_min(const struct df__heap *heap) {
  return heap->min;
}

/* The link that holds (or will hold) the node of 1-based index \p index. */
static struct df__heap_node **df__heap_slot(struct df__heap *heap,
                                            unsigned int index,
                                            struct df__heap_node **parent) {
  unsigned int path = 0;
  unsigned int depth = 0;
  struct df__heap_node **link = &heap->min;

  /* Reverse the bits below the top one, so the walk reads them root first. */
  for (; index >= 2; index /= 2, depth++)
    path = (path << 1) | (index & 1);
  *parent = NULL;
  while (depth-- > 0) {
    *parent = *link;
    link = (path & 1) ? &(*link)->right : &(*link)->left;
    path >>= 1;
  }
  return link;
}

/* Swaps \p child with its parent \p parent, fixing every link around them.
 * Nodes are never copied: other code holds pointers to them. */
static void df__heap_swap(struct df__heap *heap, struct df__heap_node *parent,
                          struct df__heap_node *child) {
  struct df__heap_node saved = *parent;
  struct df__heap_node *sibling;

  assert(child->parent == parent);
  *parent = *child;
  *child = saved;

  parent->parent = child;
  if (child->left == child) {
    child->left = parent;
    sibling = child->right;
  } else {
    child->right = parent;
    sibling = child->left;
  }
  if (sibling != NULL)
    sibling->parent = child;
  if (parent->left != NULL)
    parent->left->parent = parent;
  if (parent->right != NULL)
    parent->right->parent = parent;

  if (child->parent == NULL)
    heap->min = child;
  else if (child->parent->left == parent)
    child->parent->left = child;
  else
    child->parent->right = child;
}

static void df__heap_sift_up(struct df__heap *heap, struct df__heap_node *node,
                             df__heap_less_fn less) {
  while (node->parent != NULL && less(node, node->parent))
    df__heap_swap(heap, node->parent, node);
}

static void df__heap_sift_down(struct df__heap *heap,
                               struct df__heap_node *node,
                               df__heap_less_fn less) {
  for (;;) {
    struct df__heap_node *smallest = node;
    if (node->left != NULL && less(node->left, smallest))
      smallest = node->left;
    if (node->right != NULL && less(node->right, smallest))
      smallest = node->right;
    if (smallest == node)
      return;
    df__heap_swap(heap, node, smallest);
  }
}

DF__HEAP_UNUSED static void df__heap_insert(struct df__heap *heap,
                                            struct df__heap_node *node,
                                            df__heap_less_fn less) {
  struct df__heap_node *parent;
  struct df__heap_node **link = df__heap_slot(heap, heap->count + 1, &parent);

  assert(*link == NULL);
  node->left = NULL;
  node->right = NULL;
  node->parent = parent;
  *link = node;
  heap->count++;
  df__heap_sift_up(heap, node, less);
}

/* Removes \p node, which must be in \p heap: the last node takes its place,
 * then moves down or up until the order holds again. */
DF__HEAP_UNUSED static void df__heap_remove(struct df__heap *heap,
                                            struct df__heap_node *node,
                                            df__heap_less_fn less) {
  struct df__heap_node *parent;
  struct df__heap_node **link;
  struct df__heap_node *last;

  assert(heap->count > 0);
  if (heap->count == 0)
    return;
  link = df__heap_slot(heap, heap->count, &parent);
  last = *link;
  *link = NULL;
  heap->count--;
  if (last == node) {
    if (heap->min == node)
      heap->min = NULL;
    return;
  }

  last->left = node->left;
  last->right = node->right;
  last->parent = node->parent;
  if (last->left != NULL)
    last->left->parent = last;
  if (last->right != NULL)
    last->right->parent = last;
  if (node->parent == NULL)
    heap->min = last;
  else if (node->parent->left == node)
    node->parent->left = last;
  else
    node->parent->right = last;

  /* The last node is not the largest of the tree, so it may have to go up
   * (when it came from another branch) as well as down. */
  df__heap_sift_down(heap, last, less);
  df__heap_sift_up(heap, last, less);
}

DF__HEAP_UNUSED static void df__heap_pop(struct df__heap *heap,
                                         df__heap_less_fn less) {
  if (heap->min != NULL)
    df__heap_remove(heap, heap->min, less);
}

#endif /* DF_HEAP_INL_H */

/*
 * strmap.c - separate-chaining hash map from strings to pointers.
 *
 * Chaining keeps removal trivial and node addresses stable, which the
 * iterator relies on.  The table doubles at a load factor of 1 and never
 * shrinks: the caches it serves grow to their working set and stay.
 */
#include "strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct node {
  struct node *next;
  uint64_t hash;
  void *val;
  char key[]; /* the copy, allocated with the node */
} node;

struct kapi__strmap {
  node **buckets;
  size_t nbuckets; /* a power of two */
  size_t len;
};

#define INITIAL_BUCKETS 16

/* FNV-1a: short keys, no adversary worth a keyed hash here. */
static uint64_t hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ULL;

  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

kapi__strmap *kapi__strmap_new(void)
{
  kapi__strmap *m = calloc(1, sizeof *m);

  if (!m)
    return NULL;
  m->buckets = calloc(INITIAL_BUCKETS, sizeof *m->buckets);
  if (!m->buckets) {
    free(m);
    return NULL;
  }
  m->nbuckets = INITIAL_BUCKETS;
  return m;
}

void kapi__strmap_free(kapi__strmap *m, void (*free_val)(void *))
{
  if (!m)
    return;
  for (size_t i = 0; i < m->nbuckets; i++) {
    node *n = m->buckets[i];

    while (n) {
      node *next = n->next;

      if (free_val)
        free_val(n->val);
      free(n);
      n = next;
    }
  }
  free(m->buckets);
  free(m);
}

size_t kapi__strmap_len(const kapi__strmap *m)
{
  return m->len;
}

static node **find_slot(const kapi__strmap *m, const char *key, uint64_t h)
{
  node **p = &m->buckets[h & (m->nbuckets - 1)];

  for (; *p; p = &(*p)->next)
    if ((*p)->hash == h && strcmp((*p)->key, key) == 0)
      break;
  return p;
}

int kapi__strmap_find(const kapi__strmap *m, const char *key, void **val)
{
  node *n = *find_slot(m, key, hash_str(key));

  if (!n)
    return 0;
  if (val)
    *val = n->val;
  return 1;
}

void *kapi__strmap_get(const kapi__strmap *m, const char *key)
{
  void *v = NULL;

  kapi__strmap_find(m, key, &v);
  return v;
}

/* Doubles the table; on allocation failure the map just stays denser. */
static void grow(kapi__strmap *m)
{
  size_t nb = m->nbuckets * 2;
  node **b = calloc(nb, sizeof *b);

  if (!b)
    return;
  for (size_t i = 0; i < m->nbuckets; i++) {
    node *n = m->buckets[i];

    while (n) {
      node *next = n->next;
      node **slot = &b[n->hash & (nb - 1)];

      n->next = *slot;
      *slot = n;
      n = next;
    }
  }
  free(m->buckets);
  m->buckets = b;
  m->nbuckets = nb;
}

int kapi__strmap_put(kapi__strmap *m, const char *key, void *val,
                     void **old)
{
  uint64_t h = hash_str(key);
  node **slot = find_slot(m, key, h);
  size_t klen;
  node *n;

  if (*slot) {
    if (old)
      *old = (*slot)->val;
    (*slot)->val = val;
    return 1;
  }
  klen = strlen(key);
  n = malloc(sizeof *n + klen + 1);
  if (!n)
    return -ENOMEM;
  memcpy(n->key, key, klen + 1);
  n->hash = h;
  n->val = val;
  n->next = NULL;
  *slot = n;
  m->len++;
  if (m->len > m->nbuckets)
    grow(m);
  return 0;
}

int kapi__strmap_remove(kapi__strmap *m, const char *key, void **old)
{
  node **slot = find_slot(m, key, hash_str(key));
  node *n = *slot;

  if (!n)
    return -ENOENT;
  if (old)
    *old = n->val;
  *slot = n->next;
  free(n);
  m->len--;
  return 0;
}

int kapi__strmap_next(const kapi__strmap *m, kapi__strmap_iter *it)
{
  /* it->node: the entry returned last; it->bucket: the next bucket to
   * scan once its chain ends.  A zeroed iterator starts at bucket 0. */
  node *n = it->node ? ((node *)it->node)->next : NULL;

  while (!n && it->bucket < m->nbuckets)
    n = m->buckets[it->bucket++];
  it->node = n;
  if (!n)
    return 0;
  it->key = n->key;
  it->val = n->val;
  return 1;
}

/*
 * rbac_cache.c - the compiled policy, kept in step with the store.
 *
 * Upstream's authorizer reads informer caches; kapi's plugin reads the
 * store itself, so it keeps its own: a policy built from store_list and
 * stamped with the four resources' store_revision.  Every request reads
 * the four revisions (cheap counters) and, while they have not moved,
 * uses the policy under a read lock.  When one moved, a single thread
 * rebuilds outside the lock and swaps the new policy in under the write
 * lock; readers never wait for a rebuild, only for the swap.
 */
#include <errno.h>
#include <string.h>

#include "rbac_internal.h"

int rbac_cache_init(rbac_cache *c)
{
  int rc;

  memset(c, 0, sizeof *c);
  if ((rc = pthread_rwlock_init(&c->lock, NULL)))
    return -rc;
  if ((rc = pthread_mutex_init(&c->rebuild, NULL))) {
    pthread_rwlock_destroy(&c->lock);
    return -rc;
  }
  return 0;
}

void rbac_cache_destroy(rbac_cache *c)
{
  rbac_policy_free(c->policy);
  c->policy = NULL;
  pthread_mutex_destroy(&c->rebuild);
  pthread_rwlock_destroy(&c->lock);
}

static void read_revisions(int64_t revs[RBAC_N_RESOURCES])
{
  int i;

  for (i = 0; i < RBAC_N_RESOURCES; i++)
    revs[i] = rbac_api->store_revision(RBAC_GROUP, rbac_resources[i]);
}

/* Whether a policy built at `have` is as new as the store at `want`
 * (revisions never go backwards, so newer counts as fresh). */
static int fresh(const rbac_policy *p, const int64_t want[RBAC_N_RESOURCES])
{
  int i;

  if (!p)
    return 0;
  for (i = 0; i < RBAC_N_RESOURCES; i++)
    if (p->revs[i] < want[i])
      return 0;
  return 1;
}

static void warn_unserved(rbac_cache *c, unsigned unserved)
{
  int i;

  /* Said once: without registry/rbac every request would repeat it. */
  if (!unserved || c->warned_unserved)
    return;
  c->warned_unserved = 1;
  for (i = 0; i < RBAC_N_RESOURCES; i++)
    if (unserved & (1u << i))
      rbac_api->log(rbac_self, KAPI_LOG_WARNING,
                    "RBAC: %s.%s is not served (is the rbac registry plugin "
                    "loaded?): no %s are seen",
                    rbac_resources[i], RBAC_GROUP, rbac_resources[i]);
}

/* Rebuilds unless another thread already did it for `want`. */
static int refresh(rbac_cache *c, const int64_t want[RBAC_N_RESOURCES])
{
  int64_t revs[RBAC_N_RESOURCES];
  rbac_policy *np = NULL, *old;
  unsigned unserved = 0;
  int rc = 0, done;

  pthread_mutex_lock(&c->rebuild);
  pthread_rwlock_rdlock(&c->lock);
  done = fresh(c->policy, want);
  pthread_rwlock_unlock(&c->lock);
  if (!done) {
    /* Revisions first: a write racing the listing leaves the policy
     * stamped older than what it saw, so the next request rebuilds. */
    read_revisions(revs);
    rc = rbac_policy_build(revs, &unserved, &np);
    if (rc == 0) {
      warn_unserved(c, unserved);
      pthread_rwlock_wrlock(&c->lock);
      old = c->policy;
      c->policy = np;
      pthread_rwlock_unlock(&c->lock);
      rbac_policy_free(old);
      rbac_api->log(rbac_self, 4,
                    "RBAC: policy rebuilt: %zu clusterroles, %zu roles, %zu "
                    "bindings",
                    np->n_cluster_roles, np->n_roles, np->n_bindings);
    } else {
      rbac_api->log(rbac_self, KAPI_LOG_ERROR,
                    "RBAC: reading the policy from the store: %s",
                    strerror(-rc));
    }
  }
  pthread_mutex_unlock(&c->rebuild);
  return rc;
}

int rbac_cache_acquire(rbac_cache *c, const rbac_policy **ret)
{
  int64_t want[RBAC_N_RESOURCES];
  int rc;

  read_revisions(want);
  pthread_rwlock_rdlock(&c->lock);
  if (fresh(c->policy, want)) {
    *ret = c->policy;
    return 0;
  }
  pthread_rwlock_unlock(&c->lock);
  rc = refresh(c, want);
  pthread_rwlock_rdlock(&c->lock);
  /* A failed rebuild keeps serving the last good policy: RBAC only
   * grants, and a stale grant is what upstream's informers give too. */
  if (!c->policy) {
    pthread_rwlock_unlock(&c->lock);
    return rc < 0 ? rc : -EIO;
  }
  *ret = c->policy;
  return 0;
}

void rbac_cache_release(rbac_cache *c)
{
  pthread_rwlock_unlock(&c->lock);
}

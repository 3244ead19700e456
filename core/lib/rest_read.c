/*
 * rest_read.c - get and list, selectors and paging; and the dispatch of
 * resource requests to the verb handlers.
 *
 * Lists are assembled from the stored bytes of each object, so a list
 * without selectors parses nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "meta.h"
#include "rest.h"
#include "rest_meta.h"
#include "rest_review.h"
#include "table.h"
#include "watch_http.h"

/* ---- selectors -------------------------------------------------------- */

int rest_selectors_parse(const kapi_req *r, const kapi_resource *res,
                         rest_selectors *sel, kapi_error *e)
{
  const char *ls = kapi_req_query(r, "labelSelector");
  const char *fs = kapi_req_query(r, "fieldSelector");
  char err[512];
  size_t i;

  memset(sel, 0, sizeof *sel);
  if (ls && *ls && kapi_label_selector_parse(ls, &sel->labels, err,
                                             sizeof err) < 0) {
    kapi_error_bad_request(e, "unable to parse requirement: %s", err);
    return -EINVAL;
  }
  if (fs && *fs) {
    if (kapi_field_selector_parse(fs, &sel->fields, err, sizeof err) < 0) {
      kapi_error_bad_request(e, "%s", err);
      rest_selectors_free(sel);
      return -EINVAL;
    }
    for (i = 0; i < kapi_field_selector_count(sel->fields); i++) {
      const char *f = kapi_field_selector_field(sel->fields, i);
      if (!kapi_resource_has_field(res, f)) {
        kapi_error_bad_request(e, "field label not supported: %s", f);
        rest_selectors_free(sel);
        return -EINVAL;
      }
    }
  }
  return 0;
}

int rest_selectors_empty(const rest_selectors *sel)
{
  return (!sel->labels || kapi_label_selector_empty(sel->labels)) &&
         (!sel->fields || kapi_field_selector_count(sel->fields) == 0);
}

struct field_ctx {
  const kapi_resource *res;
  const kj *obj;
};

static const char *lookup_field(const char *field, void *arg)
{
  struct field_ctx *c = arg;
  return kapi_object_field(c->res, c->obj, field);
}

int rest_selectors_match(const rest_selectors *sel, const kapi_resource *res,
                         const kj *obj)
{
  struct field_ctx c = {res, obj};
  if (sel->labels &&
      !kapi_label_selector_matches(sel->labels,
                                   kj_ptr(obj, "/metadata/labels")))
    return 0;
  if (sel->fields &&
      !kapi_field_selector_matches(sel->fields, lookup_field, &c))
    return 0;
  return 1;
}

void rest_selectors_free(rest_selectors *sel)
{
  kapi_label_selector_free(sel->labels);
  kapi_field_selector_free(sel->fields);
  memset(sel, 0, sizeof *sel);
}

int64_t rest_query_rv(const kapi_req *r, const char *param, kapi_error *e)
{
  const char *s = kapi_req_query(r, param);
  char *end;
  long long v;
  if (!s || !*s)
    return 0;
  v = strtoll(s, &end, 10);
  if (*end || v < 0) {
    kapi_error_bad_request(e, "invalid resource version: %s", s);
    return -1;
  }
  return v;
}

/* ---- get -------------------------------------------------------------- */

static int wants_table(const kapi_req *r)
{
  const char *accept = r->header ? r->header(r->conn, "Accept") : NULL;
  return accept && kapi_wants_table(accept);
}

/* Checked before wants_table: a Table range listed after a
 * PartialObjectMetadata one must not win. */
static int wants_partial(const kapi_req *r)
{
  const char *accept = r->header ? r->header(r->conn, "Accept") : NULL;
  return accept && kapi_wants_partial_metadata(accept);
}

void rest_answer_object(kapi_server *srv, kapi_req *r, kapi_resource *res,
                        int code, const store_obj *o, kapi_response *resp)
{
  kj *obj, *table;
  char err[256];
  (void)srv;

  if (!strcmp(r->subresource, "scale")) {
    if (kj_parse(o->json, o->len, &obj, err, sizeof err) == 0)
      rest_answer_built(r, res, code, obj, resp);
    kj_free(obj);
    return;
  }
  if (wants_partial(r)) {
    size_t n;
    char *meta = kapi_partial_metadata_json(o->json, o->len, &n);
    if (meta)
      kapi_response_take(resp, code, meta, n);
    return;
  }
  if (!wants_table(r)) {
    /* The stored bytes are immutable and reference-counted: answer them
     * as they are rather than copying them per request. */
    kapi_response_share(resp, code, (store_obj *)o);
    return;
  }
  if (kj_parse(o->json, o->len, &obj, err, sizeof err) < 0)
    return;
  table = kapi_table_new(res, 1, kj_get_str(kj_get(obj, "metadata"),
                                            "resourceVersion"), NULL);
  if (table && kapi_table_add_row(table, res, obj, r->now) == 0)
    kapi_response_json(resp, code, table);
  kj_free(table);
  kj_free(obj);
}

void rest_get(kapi_server *srv, kapi_req *r, kapi_resource *res,
              kapi_response *resp)
{
  char *key = kapi_resource_key(res, r->namespace_, r->name);
  store_obj *o = NULL;
  kapi_error e;

  kapi_error_init(&e);
  if (!key || kapi_store_get(srv->store, key, &o) < 0) {
    kapi_error_not_found(&e, res->group, res->ops->resource, r->name);
    kapi_response_error(resp, &e);
  } else {
    rest_answer_object(srv, r, res, 200, o, resp);
  }
  store_obj_unref(o);
  kapi_error_clear(&e);
  free(key);
}

/* ---- list and paging -------------------------------------------------- */

/* Continue tokens as upstream: base64url (no padding) of
 * {"v":"meta.k8s.io/v1","rv":N,"start":"<key after prefix>\u0000"}. */
static char *continue_encode(int64_t rv, const char *start)
{
  kj *t = kj_object();
  char *json, *b64 = NULL;
  size_t len, i, n;
  char *with_nul;

  if (!t)
    return NULL;
  with_nul = malloc(strlen(start) + 2);
  if (with_nul) {
    strcpy(with_nul, start);
    kj_set_str(t, "v", "meta.k8s.io/v1");
    kj_set_int(t, "rv", rv);
    kj_set(t, "start", kj_stringn(with_nul, strlen(start) + 1));
  }
  free(with_nul);
  json = kj_dump(t, &len);
  kj_free(t);
  if (!json)
    return NULL;
  b64 = malloc(4 * ((len + 2) / 3) + 1);
  if (b64) {
    n = (size_t)EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)json,
                                (int)len);
    while (n && b64[n - 1] == '=')
      n--;
    b64[n] = '\0';
    for (i = 0; i < n; i++)
      b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
  }
  free(json);
  return b64;
}

/* Decodes a token into the store key to continue after. */
static int continue_decode(const char *token, const char *prefix,
                           int64_t *ret_rv, char **ret_key)
{
  size_t n = strlen(token), i, padded = (n + 3) / 4 * 4;
  char *b64 = malloc(padded + 1);
  unsigned char *raw;
  int len;
  kj *t = NULL;
  char err[128];
  const kj *start;
  int r = -EINVAL;

  if (!b64)
    return -ENOMEM;
  for (i = 0; i < n; i++)
    b64[i] = token[i] == '-' ? '+' : token[i] == '_' ? '/' : token[i];
  for (; i < padded; i++)
    b64[i] = '=';
  b64[padded] = '\0';
  raw = malloc(padded + 1);
  len = raw ? EVP_DecodeBlock(raw, (unsigned char *)b64, (int)padded) : -1;
  free(b64);
  if (len < 0) {
    free(raw);
    return -EINVAL;
  }
  while (len > 0 && raw[len - 1] == '\0' && padded > n) { /* padding zeros */
    len--;
    padded--;
  }
  if (kj_parse((char *)raw, (size_t)len, &t, err, sizeof err) == 0 &&
      (start = kj_get(t, "start")) && start->type == KJ_STRING &&
      kj_to_int(kj_get(t, "rv"), ret_rv) == 0 && start->u.str.len > 0 &&
      start->u.str.s[start->u.str.len - 1] == '\0' &&
      asprintf(ret_key, "%s%s", prefix, start->u.str.s) >= 0)
    r = 0;
  kj_free(t);
  free(raw);
  return r;
}

/* Growing output buffer for list bodies. */
struct buf {
  char *p;
  size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (b->len + n + 1 > cap)
      cap *= 2;
    p = realloc(b->p, cap);
    if (!p)
      return -ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static int buf_str(struct buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

/* What a list found: matching objects (parsed only when needed). */
struct list_result {
  store_obj **items; /* references */
  kj **parsed;       /* parallel, may hold NULLs */
  size_t n;
  int64_t rv;
  char *cont;        /* continue token or NULL; on error, the Status's */
  int64_t remaining; /* -1 = unknown */
};

static void list_result_free(struct list_result *lr)
{
  size_t i;
  for (i = 0; i < lr->n; i++) {
    store_obj_unref(lr->items[i]);
    kj_free(lr->parsed[i]);
  }
  free(lr->items);
  free(lr->parsed);
  free(lr->cont);
}

/* Upstream's messages for a list at a compacted revision (etcd3
 * store's interpretListError). */
#define LIST_EXPIRED "The resourceVersion for the provided list is too old."
#define CONTINUE_EXPIRED                                                    \
  "The provided continue parameter is too old to display a consistent "    \
  "list result. You can start a new list without the continue parameter, " \
  "or use the continue token in this response to retrieve the remainder "  \
  "of the results. Continuing with the provided token results in an "      \
  "inconsistent list - objects that were created, modified, or deleted "   \
  "between the time the first chunk was returned and now may show up in "  \
  "the list."

/* The revision a list must be served at exactly, or 0 for the latest
 * (upstream's etcd3 GetList): a continue token's own (rv -1 there means
 * the latest), else resourceVersion=N with resourceVersionMatch=Exact,
 * or N with a limit and no match (the legacy paged list). */
static int64_t list_exact_rv(const kapi_req *r, int64_t limit, int has_token,
                             int64_t token_rv)
{
  const char *match = kapi_req_query(r, "resourceVersionMatch");
  kapi_error ignored;
  int64_t rv;

  if (has_token)
    return token_rv > 0 ? token_rv : 0;
  kapi_error_init(&ignored);
  rv = rest_query_rv(r, "resourceVersion", &ignored); /* rest_list checked */
  kapi_error_clear(&ignored);
  if (rv <= 0)
    return 0;
  if (match && !strcmp(match, "Exact"))
    return rv;
  return (!match || !*match) && limit > 0 ? rv : 0;
}

/* 504 for a revision the store has not reached (upstream's
 * NewTooLargeResourceVersionError).  Upstream first waits up to 3 s for
 * its cache to catch up; here a revision is visible before anyone can
 * learn it, so waiting would only delay the same answer. */
static void list_too_large(kapi_error *e, int64_t rv, int64_t current)
{
  kapi_error_setf(e, 504, "Timeout",
                  "Timeout: Too large resource version: %" PRId64
                  ", current: %" PRId64, rv, current);
  kapi_error_add_cause(e, "ResourceVersionTooLarge",
                       "Too large resource version", NULL);
  if (e->details)
    kj_set_int(e->details, "retryAfterSeconds", 1);
}

/* Reads the objects under prefix after start (the store key of a
 * continue token, or NULL), at revision `at` (0: the latest), and sets
 * lr->rv to the revision served.  A gone revision is 410 Expired; for a
 * continue token (after: its key past the prefix) lr->cont becomes the
 * token that continues at the latest state instead, for the Status. */
static int list_fetch(kapi_server *srv, const char *prefix, const char *start,
                      const char *after, int64_t at, store_obj ***all,
                      size_t *n, struct list_result *lr, kapi_error *e)
{
  int r;

  if (at <= 0)
    return kapi_store_list(srv->store, prefix, start, all, n, &lr->rv);
  r = kapi_store_list_at(srv->store, prefix, start, at, all, n);
  if (r == 0) {
    lr->rv = at;
  } else if (r == -ERANGE && after) {
    kapi_error_setf(e, 410, "Expired", "%s", CONTINUE_EXPIRED);
    lr->cont = continue_encode(-1, after);
  } else if (r == -ERANGE) {
    kapi_error_setf(e, 410, "Expired", "%s", LIST_EXPIRED);
  } else if (r == -EAGAIN) {
    list_too_large(e, at, kapi_store_revision(srv->store));
  }
  return r;
}

/* An error Status; one answering a continue token that expired carries
 * the token to carry on with in metadata.continue, as upstream. */
static void list_answer_error(const kapi_error *e, const struct list_result *lr,
                              kapi_response *resp)
{
  kj *st;

  if (!lr->cont) {
    kapi_response_error(resp, e);
    return;
  }
  st = kapi_error_to_status(e);
  if (!st || kj_set_str(kj_get(st, "metadata"), "continue", lr->cont) < 0 ||
      kapi_response_json(resp, e->code, st) < 0)
    kapi_response_error(resp, e);
  kj_free(st);
}

static int list_collect(kapi_server *srv, kapi_req *r, kapi_resource *res,
                        const rest_selectors *sel, int need_parsed,
                        struct list_result *lr, kapi_error *e)
{
  const char *limit_s = kapi_req_query(r, "limit");
  const char *cont = kapi_req_query(r, "continue");
  char *prefix = kapi_resource_list_prefix(res, r->namespace_);
  char *start = NULL;
  store_obj **all = NULL;
  size_t n = 0, i;
  int64_t limit = limit_s ? strtoll(limit_s, NULL, 10) : 0, token_rv = 0;
  int filter = !rest_selectors_empty(sel), has_token = cont && *cont;
  int rc = -ENOMEM;

  memset(lr, 0, sizeof *lr);
  lr->remaining = -1;
  if (!prefix)
    goto out;
  if (has_token) {
    const char *rv = kapi_req_query(r, "resourceVersion");
    if (rv && *rv && strcmp(rv, "0")) {
      kapi_error_bad_request(e, "specifying resource version is not allowed "
                                "when using continue");
      rc = -EINVAL;
      goto out;
    }
    if (continue_decode(cont, prefix, &token_rv, &start) < 0) {
      kapi_error_bad_request(e, "invalid continue token: continue key is not "
                                "valid: %s", cont);
      rc = -EINVAL;
      goto out;
    }
    /* 0 is no revision: -1 is how a token says "the latest". */
    if (token_rv == 0) {
      kapi_error_bad_request(e, "invalid continue token: continue key is not "
                                "valid: incorrect encoded start "
                                "resourceVersion (version meta.k8s.io/v1)");
      rc = -EINVAL;
      goto out;
    }
  }
  /* Every page of a list is served at the first page's revision: a
   * consistent snapshot, as upstream's etcd3 store reads at a revision. */
  rc = list_fetch(srv, prefix, start, start ? start + strlen(prefix) : NULL,
                  list_exact_rv(r, limit, has_token, token_rv), &all, &n, lr,
                  e);
  if (rc < 0)
    goto out;
  rc = -ENOMEM;
  lr->items = calloc(n ? n : 1, sizeof *lr->items);
  lr->parsed = calloc(n ? n : 1, sizeof *lr->parsed);
  if (!lr->items || !lr->parsed)
    goto out;
  for (i = 0; i < n; i++) {
    kj *obj = NULL;
    char err[128];
    if (limit > 0 && (int64_t)lr->n == limit) {
      const char *last = lr->items[lr->n - 1]->key + strlen(prefix);
      lr->cont = continue_encode(lr->rv, last);
      if (!filter)
        lr->remaining = (int64_t)(n - i);
      break;
    }
    if ((filter || need_parsed) &&
        kj_parse(all[i]->json, all[i]->len, &obj, err, sizeof err) < 0)
      continue;
    if (filter && !rest_selectors_match(sel, res, obj)) {
      kj_free(obj);
      continue;
    }
    lr->items[lr->n] = store_obj_ref(all[i]);
    lr->parsed[lr->n++] = need_parsed ? obj : (kj_free(obj), NULL);
  }
  rc = 0;
out:
  for (i = 0; i < n; i++)
    store_obj_unref(all[i]);
  free(all);
  free(prefix);
  free(start);
  return rc;
}

static void list_answer_json(kapi_resource *res, struct list_result *lr,
                             kapi_response *resp)
{
  struct buf b = {0};
  char num[32];
  size_t i;
  int rc = 0;

  snprintf(num, sizeof num, "%" PRId64, lr->rv);
  rc |= buf_str(&b, "{\"kind\":\"");
  rc |= buf_str(&b, res->ops->kind);
  rc |= buf_str(&b, "List\",\"apiVersion\":\"");
  rc |= buf_str(&b, res->group_version);
  rc |= buf_str(&b, "\",\"metadata\":{\"resourceVersion\":\"");
  rc |= buf_str(&b, num);
  rc |= buf_str(&b, "\"");
  if (lr->cont) {
    rc |= buf_str(&b, ",\"continue\":\"");
    rc |= buf_str(&b, lr->cont);
    rc |= buf_str(&b, "\"");
    if (lr->remaining >= 0) {
      snprintf(num, sizeof num, "%" PRId64, lr->remaining);
      rc |= buf_str(&b, ",\"remainingItemCount\":");
      rc |= buf_str(&b, num);
    }
  }
  rc |= buf_str(&b, "},\"items\":[");
  for (i = 0; i < lr->n; i++) {
    if (i)
      rc |= buf_add(&b, ",", 1);
    rc |= buf_add(&b, lr->items[i]->json, lr->items[i]->len);
  }
  rc |= buf_str(&b, "]}");
  if (rc) {
    free(b.p);
    return;
  }
  kapi_response_take(resp, 200, b.p, b.len);
}

static void list_answer_table(kapi_req *r, kapi_resource *res,
                              struct list_result *lr, kapi_response *resp)
{
  char rv[32];
  kj *table;
  size_t i;

  snprintf(rv, sizeof rv, "%" PRId64, lr->rv);
  table = kapi_table_new(res, 1, rv, lr->cont);
  if (!table)
    return;
  for (i = 0; i < lr->n; i++)
    kapi_table_add_row(table, res, lr->parsed[i], r->now);
  kapi_response_json(resp, 200, table);
  kj_free(table);
}

static void list_answer_partial(struct list_result *lr, kapi_response *resp)
{
  char rv[32];
  kj *list;
  size_t i;

  snprintf(rv, sizeof rv, "%" PRId64, lr->rv);
  list = kapi_partial_metadata_list_new(rv, lr->cont, lr->remaining);
  if (!list)
    return;
  for (i = 0; i < lr->n; i++)
    kapi_partial_metadata_list_add(list, lr->parsed[i]);
  kapi_response_json(resp, 200, list);
  kj_free(list);
}

void rest_list(kapi_server *srv, kapi_req *r, kapi_resource *res,
               kapi_response *resp)
{
  rest_selectors sel;
  struct list_result lr;
  kapi_error e;
  int partial = wants_partial(r), table = !partial && wants_table(r);

  kapi_error_init(&e);
  if (rest_query_rv(r, "resourceVersion", &e) < 0 ||
      rest_selectors_parse(r, res, &sel, &e) < 0) {
    kapi_response_error(resp, &e);
    kapi_error_clear(&e);
    return;
  }
  if (list_collect(srv, r, res, &sel, table || partial, &lr, &e) < 0) {
    if (!kapi_error_isset(&e))
      kapi_error_internal(&e, "cannot list %s", res->ops->resource);
    list_answer_error(&e, &lr, resp);
  } else if (partial) {
    list_answer_partial(&lr, resp);
  } else if (table) {
    list_answer_table(r, res, &lr, resp);
  } else {
    list_answer_json(res, &lr, resp);
  }
  list_result_free(&lr);
  rest_selectors_free(&sel);
  kapi_error_clear(&e);
}

/* ---- dispatch ----------------------------------------------------------- */

static void not_found(kapi_response *resp)
{
  kapi_error e;
  kapi_error_init(&e);
  kapi_error_setf(&e, 404, "NotFound",
                  "the server could not find the requested resource");
  kapi_response_error(resp, &e);
  kapi_error_clear(&e);
}

/* No route for this method and path (e.g. POST to a named object):
 * upstream's router answers 405, which the apiserver turns into a Status
 * with a fixed message (NewGenericServerResponse). */
static void method_not_allowed(kapi_response *resp)
{
  kapi_error e;
  kapi_error_init(&e);
  kapi_error_setf(&e, 405, "MethodNotAllowed",
                  "the server does not allow this method on the requested "
                  "resource");
  kapi_response_error(resp, &e);
  kapi_error_clear(&e);
}

void kapi_handle_resource(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  kapi_resource *res = kapi_registry_find(srv->registry, r->api_group,
                                          r->api_version, r->resource);
  const char *v = r->verb;

  if (!res && !*r->api_group && !strcmp(r->resource, "bindings") &&
      *r->namespace_ && !*r->name && !*r->subresource &&
      !strcmp(v, "create") && rest_legacy_binding(srv, r, resp) == 0)
    return;
  if (!res && kapi_review_handle(srv, r, resp))
    return;
  if (!res) {
    not_found(resp);
    return;
  }
  if (res->ops->namespaced && !*r->namespace_ && *r->name) {
    not_found(resp); /* /api/v1/pods/NAME has no meaning */
    return;
  }
  r->res = res;
  if (*r->subresource)
    rest_subresource(srv, r, res, resp);
  else if (!strcmp(v, "get"))
    rest_get(srv, r, res, resp);
  else if (!strcmp(v, "list"))
    rest_list(srv, r, res, resp);
  else if (!strcmp(v, "watch"))
    kapi_watch_start(srv, r, res, resp);
  else if (!strcmp(v, "create") && !*r->name)
    rest_create(srv, r, res, resp);
  else if (!strcmp(v, "update") && *r->name)
    rest_update(srv, r, res, resp);
  else if (!strcmp(v, "patch") && *r->name)
    rest_patch(srv, r, res, resp);
  else if (!strcmp(v, "delete"))
    rest_delete(srv, r, res, resp);
  else if (!strcmp(v, "deletecollection") &&
           (*r->namespace_ || !res->ops->namespaced))
    rest_delete_collection(srv, r, res, resp);
  else
    method_not_allowed(resp);
}

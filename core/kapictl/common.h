/*
 * common.h - what kapictl's commands share: the flags (one table for
 * all commands, as kubectl's persistent and local flags parse in one
 * pass), the connection (kubeconfig, client, discovery mapper), error
 * reporting in kubectl's words and the -o json|yaml printers.
 */
#ifndef KAPICTL_COMMON_H
#define KAPICTL_COMMON_H

#include <stddef.h>
#include <stdio.h>

#include <curl/curl.h>

#include "kapi/resource.h"

#define KC_MAX_FILES 64

typedef struct kc_flags {
  /* connection */
  const char *kubeconfig;
  const char *context;
  const char *server;
  const char *namespace_;
  int all_namespaces;
  /* -f and friends */
  const char *files[KC_MAX_FILES];
  size_t nfiles;
  int recursive;
  int continue_on_error;
  const char *field_manager;
  /* get */
  const char *output;   /* NULL, "wide", "json", "yaml", "name" */
  const char *selector;
  int watch;
  int no_headers;
  /* delete */
  int ignore_not_found;
  int all;
  /* the rest: TYPE NAME... (pointers into argv) */
  char **args;
  size_t nargs;
} kc_flags;

/* Parses argv after the command name.  0, or -EINVAL after printing
 * kubectl's "error: unknown flag" style message. */
int kc_parse_flags(int argc, char **argv, kc_flags *f);

/* A connection to the server. */
typedef struct kc_ctx {
  kapi_client *client;
  kapi_mapper *mapper;
  char *namespace_;  /* the effective namespace */
  int ns_explicit;   /* -n was given */
  void *kc;          /* kapi_kubeconfig * (NULL with --server alone) */
} kc_ctx;

/* 0, or 1 after printing the error (kubectl's exit code). */
int kc_connect(kc_ctx *ctx, const kc_flags *f);
void kc_close(kc_ctx *ctx);

/* A curl handle for ctx's server with its TLS and credentials, and the
 * header list to free after the transfer (curl_slist_free_all).  `url`
 * is the server plus path.  NULL when out of memory. */
CURL *kc_curl(kc_ctx *ctx, const char *path, const char *accept,
              struct curl_slist **headers);

/* "pod", "deployment.apps": how kubectl names a kind in its messages. */
void kc_kind_name(const kapi_mapping *m, char *buf, size_t len);
/* "pods", "replicasets.apps": the resource as a server error names it. */
void kc_resource_name(const kapi_mapping *m, char *buf, size_t len);

/*
 * Errors as kubectl's util.CheckErr prints them.  Messages gather in a
 * kapi_errlist (the builder's and ours, in the order they happen); at
 * the end one prints as "error: ..." (or as the server's error), several
 * one a line.  kc_errors remembers the one form that differs when
 * alone: an Invalid error prints as "The Pod "x" is invalid: ...".
 */
typedef struct kc_errors {
  char *single;     /* the lone form */
  char *single_for; /* of this line */
} kc_errors;

/* Adds a server error (or a transport error: res->code 0) for a verb on
 * a source, as AddSourceToErr does: "Error from server (NotFound):
 * error when deleting "f.yaml": pods "x" not found".  verb and source may
 * be NULL (no "error when" part).  e may be NULL. */
void kc_server_error(kc_errors *e, kapi_errlist *into, const kapi_result *res,
                     int r, const char *verb, const char *source);
/* Prints l to stderr and clears it (and e); the exit code: 0 if empty. */
int kc_report(kc_errors *e, kapi_errlist *l);

/* What create and apply share: each object of -f goes to one function,
 * which counts it and records errors here. */
typedef struct kc_each {
  kc_ctx *ctx;
  kc_errors e;
  size_t count;
} kc_each;

/* Connects, visits every object of f's files with fn (arg's first member
 * is a kc_each), and reports as kubectl does ("no objects passed to
 * VERB" when there were none).  Returns the exit code. */
int kc_each_object(kc_flags *f, const char *verb, kapi_visit_fn fn,
                   kc_each *arg);
/* Prints one error now ("error: ..." unless it says otherwise); 1. */
int kc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* -o json / -o yaml of an object (managedFields left out, as kubectl
 * does by default); keys sorted as kubectl's map-based printing. */
int kc_print_json(FILE *out, const kj *obj);
int kc_print_yaml(FILE *out, const kj *obj);
/* A list of items as kubectl prints several objects: kind List. */
kj *kc_as_list(kj *items);

/* What TYPE [NAME...] or TYPE/NAME... arguments name: one target per
 * name, or one with name NULL for a bare TYPE. */
typedef struct kc_target {
  kapi_mapping m;
  char *name;
} kc_target;

/* 0, or -errno with kubectl's message in errs ("the server doesn't have
 * a resource type ..."). *ret owned (kc_targets_free). */
int kc_parse_targets(kc_ctx *ctx, char **args, size_t n, kc_target **ret,
                     size_t *ret_n, kapi_errlist *errs);
void kc_targets_free(kc_target *t, size_t n);

/* Commands: 0 or 1 (kubectl's exit codes). */
int kc_cmd_create(kc_flags *f);
int kc_cmd_apply(kc_flags *f);
int kc_cmd_delete(kc_flags *f);
int kc_cmd_get(kc_flags *f);

/* Builds the -f visitor shared by create, apply and delete, as their
 * builders do (namespace enforced when -n is given, continue on error,
 * flatten, -l).  NULL with the message in errs. */
kapi_visitor *kc_file_visitor(kc_ctx *ctx, const kc_flags *f, int enforce_ns,
                              kapi_errlist *errs);

#endif

/*
 * test_patch_smp.c - strategic merge patch: the bodies kubectl really
 * sends, every directive, the merge-key table, and the error classes.
 *
 * JSON in this file is written with single quotes for readability; J()
 * turns them into double quotes before parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "patch_smp.h"

static kj *J(const char *text)
{
  char *s = strdup(text), *p, err[256];
  kj *v = NULL;
  assert_non_null(s);
  for (p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  if (kj_parse(s, strlen(s), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, s);
  free(s);
  return v;
}

/* Applies the patch and compares with `want` (key order ignored, list
 * order checked). */
static void check(const char *kind, const char *orig, const char *patch,
                  const char *want)
{
  kj *o = J(orig), *p = J(patch), *w = J(want);
  char err[512];
  int rc = kapi_strategic_merge_patch(&o, p, kind, err, sizeof err);
  if (rc != 0)
    fail_msg("patch failed (%d): %s", rc, err);
  if (!kj_equal(o, w)) {
    char *got = kj_dump(o, NULL), *exp = kj_dump(w, NULL);
    print_error("got:  %s\nwant: %s\n", got, exp);
    free(got);
    free(exp);
    fail();
  }
  kj_free(o);
  kj_free(p);
  kj_free(w);
}

/* Expects the error class and that the target is left untouched. */
static void check_error(const char *kind, const char *orig, const char *patch,
                        int want_rc, const char *want_text)
{
  kj *o = J(orig), *p = J(patch), *copy = kj_clone(o);
  char err[512];
  int rc = kapi_strategic_merge_patch(&o, p, kind, err, sizeof err);
  assert_int_equal(rc, want_rc);
  if (!strstr(err, want_text))
    fail_msg("error %s lacks %s", err, want_text);
  assert_true(kj_equal(o, copy));
  kj_free(o);
  kj_free(p);
  kj_free(copy);
}

/* ---- the bodies of kubectl-contract §6 ------------------------------- */

#define NGINX_POD \
  "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'nginx'," \
  "'namespace':'default','uid':'u1','resourceVersion':'5'," \
  "'labels':{'app':'web'},'annotations':{" \
  "'kubectl.kubernetes.io/last-applied-configuration':'old'}}," \
  "'spec':{'containers':[{'name':'nginx','image':'nginx:1.27'," \
  "'ports':[{'containerPort':80,'protocol':'TCP'}]," \
  "'resources':{},'terminationMessagePolicy':'File'," \
  "'imagePullPolicy':'IfNotPresent'}],'restartPolicy':'Always'," \
  "'dnsPolicy':'ClusterFirst','nodeName':'n1'," \
  "'tolerations':[{'key':'node.kubernetes.io/not-ready'," \
  "'operator':'Exists','effect':'NoExecute','tolerationSeconds':300}]}," \
  "'status':{'phase':'Running'}}"

static void kubectl_apply_image_change(void **state)
{
  (void)state;
  check("Pod", NGINX_POD,
        "{'metadata':{'annotations':{"
        "'kubectl.kubernetes.io/last-applied-configuration':'new'}},"
        "'spec':{'$setElementOrder/containers':[{'name':'nginx'}],"
        "'containers':[{'image':'nginx:1.28','name':'nginx'}]}}",
        "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'nginx',"
        "'namespace':'default','uid':'u1','resourceVersion':'5',"
        "'labels':{'app':'web'},'annotations':{"
        "'kubectl.kubernetes.io/last-applied-configuration':'new'}},"
        "'spec':{'containers':[{'name':'nginx','image':'nginx:1.28',"
        "'ports':[{'containerPort':80,'protocol':'TCP'}],"
        "'resources':{},'terminationMessagePolicy':'File',"
        "'imagePullPolicy':'IfNotPresent'}],'restartPolicy':'Always',"
        "'dnsPolicy':'ClusterFirst','nodeName':'n1',"
        "'tolerations':[{'key':'node.kubernetes.io/not-ready',"
        "'operator':'Exists','effect':'NoExecute','tolerationSeconds':300}]},"
        "'status':{'phase':'Running'}}");
}

static void kubectl_apply_drop_label_env_port(void **state)
{
  (void)state;
  check("Pod",
        "{'metadata':{'name':'two','labels':{'app':'web','tier':'fe'},"
        "'annotations':{'kubectl.kubernetes.io/last-applied-configuration':"
        "'old'}},'spec':{'containers':["
        "{'name':'a','image':'nginx:1.27','env':[{'name':'FOO','value':'1'},"
        "{'name':'BAR','value':'2'}],'ports':[{'containerPort':80,"
        "'protocol':'TCP'},{'containerPort':443,'protocol':'TCP'}]},"
        "{'name':'b','image':'busybox','command':['sleep','3600']}]}}",
        "{'metadata':{'annotations':{"
        "'kubectl.kubernetes.io/last-applied-configuration':'new'},"
        "'labels':{'tier':null}},"
        "'spec':{'$setElementOrder/containers':[{'name':'a'},{'name':'b'}],"
        "'containers':[{'name':'a','image':'nginx:1.28',"
        "'$setElementOrder/env':[{'name':'BAR'}],'env':[{'name':'BAR',"
        "'value':'3'},{'$patch':'delete','name':'FOO'}],"
        "'$setElementOrder/ports':[{'containerPort':80}],"
        "'ports':[{'$patch':'delete','containerPort':443}]}]}}",
        "{'metadata':{'name':'two','labels':{'app':'web'},"
        "'annotations':{'kubectl.kubernetes.io/last-applied-configuration':"
        "'new'}},'spec':{'containers':["
        "{'name':'a','image':'nginx:1.28','env':[{'name':'BAR','value':'3'}],"
        "'ports':[{'containerPort':80,'protocol':'TCP'}]},"
        "{'name':'b','image':'busybox','command':['sleep','3600']}]}}");
}

static void cordon_and_uncordon(void **state)
{
  const char *node = "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.0.0.0/24'}}";
  (void)state;
  check("Node", node, "{'spec':{'unschedulable':true}}",
        "{'metadata':{'name':'n1'},'spec':{'podCIDR':'10.0.0.0/24',"
        "'unschedulable':true}}");
  check("Node", "{'metadata':{'name':'n1'},'spec':{'unschedulable':true}}",
        "{'spec':{'unschedulable':null}}",
        "{'metadata':{'name':'n1'},'spec':{}}");
}

/* ---- maps -------------------------------------------------------------- */

static void maps_merge_and_null_deletes(void **state)
{
  (void)state;
  check("Pod", "{'metadata':{'labels':{'a':'1','b':'2'}},'x':{'y':{'z':1}}}",
        "{'metadata':{'labels':{'a':null,'c':'3'}},'x':{'y':{'w':2}},"
        "'gone':null}",
        "{'metadata':{'labels':{'b':'2','c':'3'}},'x':{'y':{'z':1,'w':2}}}");
  /* A new map drops its nulls (IgnoreUnmatchedNulls). */
  check("Pod", "{'metadata':{'name':'p'}}",
        "{'metadata':{'annotations':{'k':'v','n':null}}}",
        "{'metadata':{'name':'p','annotations':{'k':'v'}}}");
  /* A scalar replaced by a map and back. */
  check(NULL, "{'a':1,'b':{'c':1}}", "{'a':{'x':1},'b':2}",
        "{'a':{'x':1},'b':2}");
}

static void patch_replace_in_map(void **state)
{
  (void)state;
  check("Pod", "{'spec':{'nodeSelector':{'a':'1','b':'2'},'x':1}}",
        "{'spec':{'nodeSelector':{'$patch':'replace','c':'3'}}}",
        "{'spec':{'nodeSelector':{'c':'3'},'x':1}}");
}

static void patch_delete_in_map(void **state)
{
  (void)state;
  check("Pod", "{'spec':{'securityContext':{'runAsUser':1},'x':1}}",
        "{'spec':{'securityContext':{'$patch':'delete'}}}",
        "{'spec':{'securityContext':{},'x':1}}");
}

/* ---- merge lists ------------------------------------------------------- */

static void keyed_list_delete_item(void **state)
{
  (void)state;
  check("Pod",
        "{'spec':{'containers':[{'name':'a'},{'name':'b'},{'name':'c'}]}}",
        "{'spec':{'containers':[{'name':'b','$patch':'delete'}]}}",
        "{'spec':{'containers':[{'name':'a'},{'name':'c'}]}}");
}

static void keyed_list_replace(void **state)
{
  (void)state;
  check("Pod",
        "{'spec':{'volumes':[{'name':'a','emptyDir':{}},{'name':'b',"
        "'emptyDir':{}}]}}",
        "{'spec':{'volumes':[{'name':'c','emptyDir':{}},{'$patch':'replace'}]}}",
        "{'spec':{'volumes':[{'name':'c','emptyDir':{}}]}}");
}

static void keyed_list_appends_new_items_first(void **state)
{
  (void)state;
  /* Without $setElementOrder upstream puts items absent from the live
   * list ahead of it (mergeSortedSlice favours the patch side). */
  check("Pod",
        "{'spec':{'containers':[{'name':'a','image':'x'},{'name':'b'}]}}",
        "{'spec':{'containers':[{'name':'c','image':'y'},"
        "{'name':'a','image':'z'}]}}",
        "{'spec':{'containers':[{'name':'c','image':'y'},"
        "{'name':'a','image':'z'},{'name':'b'}]}}");
  /* A merged item keeps its live place among server-only items. */
  check("Pod",
        "{'spec':{'containers':[{'name':'a'},{'name':'b'},{'name':'c'}]}}",
        "{'spec':{'containers':[{'name':'c','image':'y'}]}}",
        "{'spec':{'containers':[{'name':'a'},{'name':'b'},"
        "{'name':'c','image':'y'}]}}");
}

static void set_element_order(void **state)
{
  (void)state;
  check("Pod", "{'spec':{'containers':[{'name':'a'},{'name':'b'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'b'},{'name':'a'}]}}",
        "{'spec':{'containers':[{'name':'b'},{'name':'a'}]}}");
  /* Server-only b stays ahead of c, as in the live list. */
  check("Pod",
        "{'spec':{'containers':[{'name':'a'},{'name':'b'},{'name':'c'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'c'},{'name':'a'}],"
        "'containers':[{'name':'c','image':'i'}]}}",
        "{'spec':{'containers':[{'name':'b'},{'name':'c','image':'i'},"
        "{'name':'a'}]}}");
  /* Adding a container at the end, as kubectl apply does. */
  check("Pod", "{'spec':{'containers':[{'name':'a','image':'x'}]}}",
        "{'spec':{'$setElementOrder/containers':[{'name':'a'},{'name':'n'}],"
        "'containers':[{'name':'n','image':'y','env':[{'name':'E',"
        "'value':'1'}]}]}}",
        "{'spec':{'containers':[{'name':'a','image':'x'},{'name':'n',"
        "'image':'y','env':[{'name':'E','value':'1'}]}]}}");
  /* Primitive lists order by value. */
  check("Pod", "{'metadata':{'finalizers':['x','y']}}",
        "{'metadata':{'$setElementOrder/finalizers':['y','x']}}",
        "{'metadata':{'finalizers':['y','x']}}");
}

static void primitive_union_and_delete(void **state)
{
  (void)state;
  check("Pod", "{'metadata':{'finalizers':['a','b']}}",
        "{'metadata':{'finalizers':['b','c']}}",
        "{'metadata':{'finalizers':['a','b','c']}}");
  check("Pod", "{'metadata':{'finalizers':['a','b','c']}}",
        "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b','z']}}",
        "{'metadata':{'finalizers':['a','c']}}");
  /* A value new to the list goes ahead of it, as upstream's ordering. */
  check("Node", "{'spec':{'podCIDRs':['10.0.0.0/24']}}",
        "{'spec':{'podCIDRs':['fd00::/64']}}",
        "{'spec':{'podCIDRs':['fd00::/64','10.0.0.0/24']}}");
}

static void retain_keys_on_volume(void **state)
{
  (void)state;
  check("Pod",
        "{'spec':{'volumes':[{'name':'v','emptyDir':{'medium':'Memory'}}]}}",
        "{'spec':{'volumes':[{'name':'v','hostPath':{'path':'/x'},"
        "'$retainKeys':['hostPath','name']}]}}",
        "{'spec':{'volumes':[{'name':'v','hostPath':{'path':'/x'}}]}}");
}

static void atomic_lists_replace(void **state)
{
  (void)state;
  check("Pod",
        "{'spec':{'tolerations':[{'key':'a','operator':'Exists'}],"
        "'containers':[{'name':'c','command':['a','b'],'args':['1']}]}}",
        "{'spec':{'tolerations':[{'key':'b','operator':'Exists'}],"
        "'containers':[{'name':'c','command':['z']}]}}",
        "{'spec':{'tolerations':[{'key':'b','operator':'Exists'}],"
        "'containers':[{'name':'c','command':['z'],'args':['1']}]}}");
  check("Node", "{'spec':{'taints':[{'key':'a','effect':'NoSchedule'}]}}",
        "{'spec':{'taints':[{'key':'b','effect':'NoSchedule'}]}}",
        "{'spec':{'taints':[{'key':'b','effect':'NoSchedule'}]}}");
  check("Pod",
        "{'status':{'containerStatuses':[{'name':'a','ready':false},"
        "{'name':'b','ready':false}]}}",
        "{'status':{'containerStatuses':[{'name':'a','ready':true}]}}",
        "{'status':{'containerStatuses':[{'name':'a','ready':true}]}}");
}

/* A schema-declared merge key is honoured on a kind the built-in table
 * does not know, "$listType":"atomic" overrides the table, and a list the
 * schema leaves unannotated keeps the table's tags. */
static void schema_declares_merge_keys(void **state)
{
  kj *schema = J("{'spec':{'gadgets':[{'$mergeKey':'id','$strategy':'merge',"
                 "'id':'string','size':'integer','color':'string'}],"
                 "'tags':[{'$mergeKey':'k','k':'string'}]}}");
  kj *o = J("{'metadata':{'finalizers':['a']},'spec':{"
            "'gadgets':[{'id':'a','size':1},{'id':'b','size':2}],"
            "'tags':[{'k':'x'},{'k':'y'}]}}");
  kj *p = J("{'metadata':{'finalizers':['b']},'spec':{"
            "'gadgets':[{'id':'b','color':'red'},{'id':'c','size':3}],"
            "'tags':[{'k':'z'}]}}");
  kj *w = J("{'metadata':{'finalizers':['b','a']},'spec':{"
            "'gadgets':[{'id':'a','size':1},{'id':'b','size':2,"
            "'color':'red'},{'id':'c','size':3}],'tags':[{'k':'z'}]}}");
  kj *pod = J("{'spec':{'tolerations':[{'$listType':'atomic','key':'string'}],"
              "'containers':[{'$listType':'atomic','name':'string'}]}}");
  kj *po = J("{'spec':{'containers':[{'name':'a'},{'name':'b'}]}}");
  kj *pp = J("{'spec':{'containers':[{'name':'c'}]}}");
  char err[512];
  (void)state;

  /* "gadgets" merges by the declared key; "tags" has a key but no merge
   * strategy, so it is replaced; finalizers keep the table's merge. */
  assert_int_equal(kapi_strategic_merge_patch_schema(&o, p, "Gizmo", schema,
                                                     err, sizeof err), 0);
  if (!kj_equal(o, w)) {
    char *got = kj_dump(o, NULL);
    fail_msg("got %s", got);
  }
  assert_int_equal(kapi_strategic_merge_patch_schema(&po, pp, "Pod", pod,
                                                     err, sizeof err), 0);
  assert_true(kj_equal(po, pp));
  kj_free(schema);
  kj_free(o);
  kj_free(p);
  kj_free(w);
  kj_free(pod);
  kj_free(po);
  kj_free(pp);
  /* A missing declared merge key is an error, as for the table's keys. */
  schema = J("{'items':[{'$mergeKey':'id','$strategy':'merge'}]}");
  o = J("{'items':[{'id':'a'}]}");
  p = J("{'items':[{'name':'b'}]}");
  assert_int_equal(kapi_strategic_merge_patch_schema(&o, p, "Gizmo", schema,
                                                     err, sizeof err),
                   -EIO);
  assert_non_null(strstr(err, "does not contain declared merge key: id"));
  kj_free(schema);
  kj_free(o);
  kj_free(p);
}

static void owner_references_adopt_and_release(void **state)
{
  (void)state;
  check("Pod",
        "{'metadata':{'uid':'p1','ownerReferences':[{'uid':'o1','kind':'X'}]}}",
        "{'metadata':{'ownerReferences':[{'uid':'o2','kind':'ReplicaSet',"
        "'controller':true,'blockOwnerDeletion':true}],'uid':'p1'}}",
        "{'metadata':{'uid':'p1','ownerReferences':[{'uid':'o2',"
        "'kind':'ReplicaSet','controller':true,'blockOwnerDeletion':true},"
        "{'uid':'o1','kind':'X'}]}}");
  check("Pod",
        "{'metadata':{'uid':'p1','ownerReferences':[{'uid':'o1','kind':'X'}]}}",
        "{'metadata':{'ownerReferences':[{'$patch':'delete','uid':'o1'}],"
        "'uid':'p1'}}",
        "{'metadata':{'uid':'p1','ownerReferences':[]}}");
}

static void status_lists_by_key(void **state)
{
  (void)state;
  check("Pod",
        "{'status':{'phase':'Pending','conditions':[{'type':'PodScheduled',"
        "'status':'True'},{'type':'Ready','status':'False'}],"
        "'podIPs':[{'ip':'10.0.0.1'}]}}",
        "{'metadata':{'uid':'u'},'status':{'$setElementOrder/conditions':"
        "[{'type':'PodScheduled'},{'type':'Ready'}],'conditions':"
        "[{'type':'Ready','status':'True'}],'phase':'Running',"
        "'podIPs':[{'ip':'fd00::1'}]}}",
        "{'metadata':{'uid':'u'},'status':{'phase':'Running','conditions':"
        "[{'type':'PodScheduled','status':'True'},{'type':'Ready',"
        "'status':'True'}],'podIPs':[{'ip':'fd00::1'},{'ip':'10.0.0.1'}]}}");
  check("Node",
        "{'status':{'addresses':[{'type':'InternalIP','address':'1.2.3.4'}],"
        "'conditions':[{'type':'Ready','status':'False'}]}}",
        "{'status':{'addresses':[{'type':'InternalIP','address':'5.6.7.8'}],"
        "'conditions':[{'type':'Ready','status':'True'}]}}",
        "{'status':{'addresses':[{'type':'InternalIP','address':'5.6.7.8'}],"
        "'conditions':[{'type':'Ready','status':'True'}]}}");
  check("Namespace",
        "{'status':{'conditions':[{'type':'A','status':'True'}]}}",
        "{'status':{'conditions':[{'type':'B','status':'True'}]}}",
        "{'status':{'conditions':[{'type':'B','status':'True'},"
        "{'type':'A','status':'True'}]}}");
}

static void pod_template_in_workloads(void **state)
{
  (void)state;
  check("ReplicaSet",
        "{'spec':{'replicas':1,'template':{'metadata':{'labels':{'a':'b'}},"
        "'spec':{'containers':[{'name':'c','image':'x'},{'name':'d'}]}}}}",
        "{'spec':{'template':{'spec':{'containers':[{'name':'c',"
        "'image':'y'}]}}}}",
        "{'spec':{'replicas':1,'template':{'metadata':{'labels':{'a':'b'}},"
        "'spec':{'containers':[{'name':'c','image':'y'},{'name':'d'}]}}}}");
}

static void unknown_kind_replaces_lists(void **state)
{
  (void)state;
  check("Widget",
        "{'metadata':{'finalizers':['a']},'spec':{'containers':"
        "[{'name':'a'},{'name':'b'}]}}",
        "{'metadata':{'finalizers':['b']},'spec':{'containers':"
        "[{'name':'b','image':'x'}]}}",
        "{'metadata':{'finalizers':['b','a']},'spec':{'containers':"
        "[{'name':'b','image':'x'}]}}");
}

static void top_level_replace(void **state)
{
  (void)state;
  check("Pod", "{'metadata':{'name':'a'},'spec':{'x':1}}",
        "{'$patch':'replace','metadata':{'name':'b'}}",
        "{'metadata':{'name':'b'}}");
}

/* ---- errors ------------------------------------------------------------ */

static void errors(void **state)
{
  const char *pod = "{'spec':{'containers':[{'name':'a'}],'m':{'k':1}}}";
  (void)state;
  check_error("Pod", pod, "{'spec':{'m':{'$patch':'bogus'}}}", -EIO,
              "unknown patch type: bogus in map:");
  check_error("Pod", pod, "{'spec':{'containers':[{'$patch':'bogus',"
              "'name':'a'}]}}", -EIO, "unknown patch type: bogus");
  check_error("Pod", pod, "{'spec':{'m':{'$patch':'merge'}}}", -EIO,
              "unknown patch type: merge");
  check_error("Pod", pod, "{'spec':{'containers':[{'$patch':'merge'}]}}",
              -EIO, "merging lists cannot yet be specified in the patch");
  check_error("Pod", pod, "{'spec':{'containers':[{'image':'x'}]}}", -EIO,
              "does not contain declared merge key: name");
  check_error("Pod", pod, "{'spec':{'containers':[{'$patch':'delete'}]}}",
              -EIO, "does not contain declared merge key: name");
  check_error("Pod", pod, "{'spec':{'$setElementOrder/containers':'a'}}",
              -EINVAL, "invalid patch format of setElementOrder list");
  check_error("Pod", pod, "{'spec':{'m':{'$retainKeys':'k'}}}", -EINVAL,
              "invalid patch format of retainKeys");
  check_error("Pod", pod, "{'spec':{'m':{'$retainKeys':['k'],'j':2}}}",
              -EINVAL, "invalid patch format of retainKeys");
  check_error("Pod", "{'metadata':{'finalizers':['a']}}",
              "{'metadata':{'finalizers':[['b']]}}", -EDOM,
              "lists of lists are not supported");
  check_error("Pod", "{'metadata':{'finalizers':['a']}}",
              "{'metadata':{'finalizers':[1]}}", -EIO,
              "list element types are not identical");
  check_error("Pod", pod, "[1]", -EINVAL,
              "strategic merge patch format is not supported");
  /* A list merge key on a list of scalars is a union, not an error;
   * maps in a list with no key declared cannot merge. */
  check_error("Pod", "{'metadata':{'finalizers':[{'a':1}]}}",
              "{'metadata':{'finalizers':[{'b':1}]}}", -EIO,
              "cannot merge lists without merge key for finalizers");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(kubectl_apply_image_change),
    cmocka_unit_test(kubectl_apply_drop_label_env_port),
    cmocka_unit_test(cordon_and_uncordon),
    cmocka_unit_test(maps_merge_and_null_deletes),
    cmocka_unit_test(patch_replace_in_map),
    cmocka_unit_test(patch_delete_in_map),
    cmocka_unit_test(keyed_list_delete_item),
    cmocka_unit_test(keyed_list_replace),
    cmocka_unit_test(keyed_list_appends_new_items_first),
    cmocka_unit_test(set_element_order),
    cmocka_unit_test(primitive_union_and_delete),
    cmocka_unit_test(retain_keys_on_volume),
    cmocka_unit_test(atomic_lists_replace),
    cmocka_unit_test(schema_declares_merge_keys),
    cmocka_unit_test(owner_references_adopt_and_release),
    cmocka_unit_test(status_lists_by_key),
    cmocka_unit_test(pod_template_in_workloads),
    cmocka_unit_test(unknown_kind_replaces_lists),
    cmocka_unit_test(top_level_replace),
    cmocka_unit_test(errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

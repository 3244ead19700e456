/*
 * quantity.h - resource.Quantity as the quota code needs it: exact
 * parsing (to upstream's nano precision), addition, comparison and the
 * canonical text upstream's Quantity.String() prints ("100m", "1Gi",
 * "1500", "2k").
 *
 * Shared by the ResourceQuota admission plugin, the resourcequota
 * registry plugin (table cells, validation) and the resourcequota
 * controller.  Depends on libc only.
 */
#ifndef KAPI_RQ_QUANTITY_H
#define KAPI_RQ_QUANTITY_H

#include <stddef.h>

/* resource.Format: how the canonical text is written. */
typedef enum rq_format {
  RQ_DECIMAL_SI = 0,       /* "100m", "2k", "1500" */
  RQ_BINARY_SI = 1,        /* "1Gi", "1536Mi" */
  RQ_DECIMAL_EXPONENT = 2, /* "1e3", "15e-1" */
} rq_format;

/*
 * A quantity: its value in nano units (upstream rounds parsed values up
 * to 1n, so nano is exact), and the format it prints in.  128 bits hold
 * values up to about 10^29, well past "1Ei".
 */
typedef struct rq_qty {
  __int128 nano;
  rq_format format;
} rq_qty;

/* Room for the canonical text of any quantity, with its NUL. */
#define RQ_QTY_TEXT 64

/* Parses `s` (borrowed) as resource.ParseQuantity does, into *out.
 * Returns 0, -EINVAL (not a quantity) or -ERANGE (too large). */
int rq_qty_parse(const char *s, rq_qty *out);

/* The canonical text of `q` (Quantity.String()) into buf, `len` bytes
 * (RQ_QTY_TEXT is always enough).  Returns buf. */
char *rq_qty_format(const rq_qty *q, char *buf, size_t len);

/* An integer quantity in the DecimalSI format (resource.NewQuantity). */
rq_qty rq_qty_int(long long v);

/* q += y and q -= y; a zero q takes y's format (Quantity.Add/Sub). */
void rq_qty_add(rq_qty *q, const rq_qty *y);
void rq_qty_sub(rq_qty *q, const rq_qty *y);

/* -1, 0 or 1 as a < b, a == b, a > b (Quantity.Cmp). */
int rq_qty_cmp(const rq_qty *a, const rq_qty *b);

/* -1, 0 or 1: the sign of q. */
int rq_qty_sign(const rq_qty *q);

/* Is q a whole number (MilliValue() % 1000 == 0, as quota validation
 * checks integer resources)? */
int rq_qty_is_integer(const rq_qty *q);

#endif

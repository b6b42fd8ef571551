/*
 * store_script.h: the script a fleet's store runs in Redis and the
 * formatting of its calls (store_script.c), for store.c.
 */
#ifndef RS_STORE_SCRIPT_H
#define RS_STORE_SCRIPT_H

#include <stddef.h>

/* The script's text: loaded once (SCRIPT LOAD), run by its SHA-1. */
extern const char rs_store_script[];

/* Room for a call: the key twice (RS_FLEET_PREFIX_LEN + RS_PACE_KEY_MAX
 * at most), the script's hash and up to 28 short arguments. */
#define RS_STORE_COMMAND_MAX 4096

/* v as the script reads a number into out (cap at least 24 for an
 * integer's fast path): an integer's digits, else %.17g. */
void rs_store_number(char *out, size_t cap, double v);

/* argv in Redis's protocol (an array of bulk strings) into buf: its
 * length, or 0 when it does not fit. */
size_t rs_store_command(char *buf, size_t cap, int argc, const char **argv);

#endif

/*
 * loop_int.h: what loop.c and loop_lua.c (the loop and its Lua face)
 * share, and nothing else includes.
 */
#ifndef RS_LOOP_INT_H
#define RS_LOOP_INT_H

#include "loop.h"

/* Takes t out of its client's members (close() cancels those). */
void rs_loop_unlink_member(rs_transfer *t);

/* Lets go of t's anchor in the registry (the loop kept t alive while
 * libcurl or a line pointed at it). */
void rs_loop_unanchor(lua_State *L, rs_loop *lp, rs_transfer *t);

#endif

/*
 * fleet_key.h: the Redis key under which a fleet keeps one endpoint's
 * budget (README "A fleet"): "robloxsocial:v1:" .. hex(SHA-256(
 * "robloxsocial-fleet\0" .. credential)) .. ":" .. bucket key.  The
 * credential never leaves the process: only its hash does, and the hash
 * is the same in every process and machine that holds the same one.
 */
#ifndef RS_FLEET_KEY_H
#define RS_FLEET_KEY_H

#include <stddef.h>

#include "rs.h"

/* "robloxsocial:v1:" and 64 hex digits and ':' */
#define RS_FLEET_PREFIX_LEN (16 + 64 + 1)

/* Writes the prefix of credential (len bytes) into out, which holds
 * RS_FLEET_PREFIX_LEN + 1 bytes (ends in '\0').  0 when hashing failed. */
int rs_fleet_prefix(const char *credential, size_t len, char *out);

/* Lowercase hex of SHA-256(data), into out (65 bytes).  0 on failure. */
int rs_fleet_sha256_hex(const void *data, size_t len, char *out);

/* core.fleet_sha256(s), core.fleet_key(credential, bucket_key): for the
 * specs (the FIPS 180-4 vectors; the key holds no credential). */
void rs_fleet_key_open(lua_State *L);

#endif

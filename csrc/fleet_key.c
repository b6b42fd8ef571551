/*
 * fleet_key.c: the key of an endpoint's shared budget (fleet_key.h).
 * SHA-256 is OpenSSL's libcrypto, which libcurl already brings in.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "rs.h"
#include "fleet_key.h"

/* Hashed before the credential, so the key is no plain hash of it that
 * another program keeping its own keys would share. */
static const char DOMAIN[] = "robloxsocial-fleet";   /* and its '\0' */

static void put_hex(const unsigned char *digest, char *out)
{
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 15];
    }
    out[2 * SHA256_DIGEST_LENGTH] = '\0';
}

int rs_fleet_sha256_hex(const void *data, size_t len, char *out)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    if (SHA256(data, len, digest) == NULL)
        return 0;
    put_hex(digest, out);
    return 1;
}

int rs_fleet_prefix(const char *credential, size_t len, char *out)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
             && EVP_DigestUpdate(ctx, DOMAIN, sizeof DOMAIN)
             && EVP_DigestUpdate(ctx, credential, len)
             && EVP_DigestFinal_ex(ctx, digest, NULL);
    EVP_MD_CTX_free(ctx);       /* cleanses its state */
    if (!ok)
        return 0;
    memcpy(out, "robloxsocial:v1:", 16);
    put_hex(digest, out + 16);
    out[16 + 64] = ':';
    out[RS_FLEET_PREFIX_LEN] = '\0';
    return 1;
}

static int fleet_sha256(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[65];
    if (!rs_fleet_sha256_hex(s, len, hex))
        return luaL_error(L, "robloxsocial: sha256: hashing failed");
    lua_pushstring(L, hex);
    return 1;
}

static int fleet_key(lua_State *L)
{
    size_t len;
    const char *credential = luaL_checklstring(L, 1, &len);
    const char *bucket = luaL_checkstring(L, 2);
    char prefix[RS_FLEET_PREFIX_LEN + 1];
    if (!rs_fleet_prefix(credential, len, prefix))
        return luaL_error(L, "robloxsocial: fleet key: hashing failed");
    lua_pushstring(L, prefix);
    lua_pushstring(L, bucket);
    lua_concat(L, 2);
    return 1;
}

void rs_fleet_key_open(lua_State *L)
{
    lua_pushcfunction(L, fleet_sha256);
    lua_setfield(L, -2, "fleet_sha256");
    lua_pushcfunction(L, fleet_key);
    lua_setfield(L, -2, "fleet_key");
}

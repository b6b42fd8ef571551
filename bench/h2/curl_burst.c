/*
 * curl_burst.c: the reference for bench/h2: a plain libcurl multi loop
 * that sends n GETs to one URL at once over HTTP/2 (PIPEWAIT, multiplex,
 * libcurl's defaults otherwise) and prints how many connections libcurl
 * opened for them (CURLINFO_NUM_CONNECTS summed) and how many failed.
 *   curl_burst URL CAFILE N
 */
#include <stdio.h>
#include <stdlib.h>
#include <curl/curl.h>

static size_t discard(char *data, size_t size, size_t count, void *userdata)
{
    (void)data; (void)userdata;
    return size * count;
}

int main(int argc, char **argv)
{
    CURLM *multi;
    CURL **easy;
    CURLMsg *msg;
    int n, i, running = 1, left, failed = 0;
    long connections = 0;
    if (argc != 4 || (n = atoi(argv[3])) < 1) {
        fprintf(stderr, "usage: curl_burst URL CAFILE N\n");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (multi = curl_multi_init()) == NULL
        || (easy = calloc((size_t)n, sizeof *easy)) == NULL)
        return 1;
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    for (i = 0; i < n; i++) {
        if ((easy[i] = curl_easy_init()) == NULL)
            return 1;
        curl_easy_setopt(easy[i], CURLOPT_URL, argv[1]);
        curl_easy_setopt(easy[i], CURLOPT_CAINFO, argv[2]);
        curl_easy_setopt(easy[i], CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(easy[i], CURLOPT_PIPEWAIT, 1L);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
        curl_multi_add_handle(multi, easy[i]);
    }
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    while ((msg = curl_multi_info_read(multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->data.result != CURLE_OK)
            failed++;
    for (i = 0; i < n; i++) {
        long c = 0;
        curl_easy_getinfo(easy[i], CURLINFO_NUM_CONNECTS, &c);
        connections += c;
        curl_multi_remove_handle(multi, easy[i]);
        curl_easy_cleanup(easy[i]);
    }
    printf("connections=%ld failed=%d\n", connections, failed);
    free(easy);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}

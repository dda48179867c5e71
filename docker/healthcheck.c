/* healthcheck.c - arb-healthcheck, the container's HEALTHCHECK probe.
 *
 *   arb-healthcheck URL      exit 0 when GET URL answers 200 within 2 s, else 1
 *
 * Docker runs it inside the container against the program's own GET /healthz
 * (http://127.0.0.1:8080/healthz for the bridge, :8081 for the replay's admin endpoint, :9000
 * for the sample desk). It exists so the runtime image needs no curl: it links only libcurl,
 * which airudder-replay needs anyway, so it adds no package to the image. On failure it prints
 * one line on stderr, which Docker keeps in the container's health log. No redirects, no
 * proxy from the environment, nothing read from the body. */
#include <curl/curl.h>

#include <stdio.h>
#include <string.h>

#define PROBE_TIMEOUT_MS 2000L

/* The body is not needed: drop it. */
static size_t discard(char *data, size_t size, size_t count, void *user)
{
    (void)data;
    (void)user;
    return size * count;
}

int main(int argc, char **argv)
{
    CURL *curl = NULL;
    long status = 0;
    int rc = 1;

    if (argc != 2 || strncmp(argv[1], "http://", 7) != 0) {
        fputs("usage: arb-healthcheck http://HOST:PORT/PATH\n", stderr);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("arb-healthcheck: curl_global_init failed\n", stderr);
        return 1;
    }
    curl = curl_easy_init();
    if (curl == NULL) {
        fputs("arb-healthcheck: curl_easy_init failed\n", stderr);
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, PROBE_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);

    CURLcode res = curl_easy_perform(curl);
    if (res != CURLE_OK) {
        fprintf(stderr, "arb-healthcheck: %s: %s\n", argv[1], curl_easy_strerror(res));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "arb-healthcheck: %s: HTTP %ld\n", argv[1], status);
        goto out;
    }
    rc = 0;
out:
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc;
}

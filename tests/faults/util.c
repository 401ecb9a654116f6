/* Helpers shared by the fault tests (util.h). */
#include "util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "../writer/util.h"

const char *corpus_path(const char *rel)
{
    static char buf[4096];
    const char *dir = getenv("PKTCAP_CORPUS");
    if (!dir)
        fail_msg("PKTCAP_CORPUS is not set (meson test sets it)");
    snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    return buf;
}

void capture_load(capture *c, const char *path)
{
    pktcap_reader *r = NULL;
    const pktcap_packet *p;
    size_t cap = 0;
    int rc;
    memset(c, 0, sizeof *c);
    if (pktcap_reader_open(&r, path) != 0)
        fail_msg("%s: %s", path, pktcap_error_message(pktcap_error_last()));
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        pktcap_packet *q;
        if (c->count == cap) {
            cap = cap ? 2 * cap : 64;
            c->packets = realloc(c->packets, cap * sizeof *c->packets);
            assert_non_null(c->packets);
        }
        q = &c->packets[c->count++];
        *q = *p;
        q->data = p->caplen ? malloc(p->caplen) : NULL;
        if (p->caplen)
            memcpy((uint8_t *)q->data, p->data, p->caplen);
        q->comment = p->comment_len ? malloc(p->comment_len) : NULL;
        if (p->comment_len)
            memcpy((char *)q->comment, p->comment, p->comment_len);
    }
    if (rc != PKTCAP_E_END)
        fail_msg("%s: %s", path, pktcap_error_message(pktcap_error_last()));
    c->interfaces = pktcap_reader_interface_count(r);
    c->linktypes = calloc(c->interfaces + 1, sizeof *c->linktypes);
    c->snaplens = calloc(c->interfaces + 1, sizeof *c->snaplens);
    assert_true(c->linktypes && c->snaplens);
    for (uint32_t i = 0; i < c->interfaces; i++) {
        c->linktypes[i] = pktcap_reader_interface_linktype(r, i);
        c->snaplens[i] = pktcap_reader_interface_snaplen(r, i);
    }
    pktcap_reader_close(r);
}

void capture_free(capture *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free((void *)c->packets[i].data);
        free((void *)c->packets[i].comment);
    }
    free(c->packets);
    free(c->linktypes);
    free(c->snaplens);
    memset(c, 0, sizeof *c);
}

size_t count_packets(const char *path)
{
    pktcap_reader *r = NULL;
    const pktcap_packet *p;
    size_t n = 0;
    int rc = pktcap_reader_open(&r, path);
    while (rc == 0 && (rc = pktcap_reader_next(&p, r)) == 0)
        n++;
    pktcap_reader_close(r);
    if (rc != PKTCAP_E_END)
        fail_msg("reading %s back: %s: %s", path, pktcap_error_name(rc),
                 pktcap_error_message(pktcap_error_last()));
    return n;
}

/* ---- emulators ------------------------------------------------------------ */

/* A pipe whose ends the emulator does not inherit beyond the two it is given. */
static void cloexec_pipe(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
}

void emulator_start(emulator *e, const char *provider, const char *const *args)
{
    const char *python = getenv("PKTCAP_TEST_PYTHON");
    const char *script = getenv("PKTCAP_TEST_EMULATOR");
    const char *argv[32];
    size_t n = 0;
    int in[2], out[2];
    char line[8192];
    json_error_t err;
    FILE *f;
    if (!python || !script)
        fail_msg("PKTCAP_TEST_PYTHON and PKTCAP_TEST_EMULATOR must be set (meson test sets them)");
    argv[n++] = python;
    argv[n++] = script;
    argv[n++] = provider;
    for (; args && *args; args++) {
        assert_true(n < 30);
        argv[n++] = *args;
    }
    argv[n] = NULL;
    cloexec_pipe(in);
    cloexec_pipe(out);
    e->pid = fork();
    assert_true(e->pid >= 0);
    if (e->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execv(python, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f = fdopen(out[0], "r");
    assert_non_null(f);
    if (!fgets(line, sizeof line, f))
        fail_msg("the %s emulator printed nothing (%s %s)", provider, python, script);
    fclose(f);
    e->input = in[1];
    e->info = json_loads(line, 0, &err);
    if (!json_is_object((json_t *)e->info))
        fail_msg("the %s emulator printed no JSON object: %s", provider, line);
}

const char *emulator_get(const emulator *e, const char *key)
{
    const char *v = json_string_value(json_object_get((json_t *)e->info, key));
    if (!v)
        fail_msg("the emulator's line has no \"%s\"", key);
    return v;
}

void emulator_stop(emulator *e)
{
    int status;
    if (e->pid <= 0)
        return;
    close(e->input); /* it stops when its stdin closes */
    if (waitpid(e->pid, &status, 0) != e->pid)
        kill(e->pid, SIGKILL);
    json_decref((json_t *)e->info);
    memset(e, 0, sizeof *e);
}

/* ---- directories ------------------------------------------------------- */

size_t count_temporaries(const char *dir)
{
    char **names = list_dir(dir);
    size_t n = 0;
    for (size_t i = 0; names[i]; i++) {
        size_t len = strlen(names[i]);
        n += names[i][0] == '.' && len > 5 && strcmp(names[i] + len - 5, ".part") == 0;
    }
    free_names(names);
    return n;
}

void empty_dir(const char *dir)
{
    char **names = list_dir(dir);
    for (size_t i = 0; names[i]; i++)
        unlink(path_in(dir, names[i]));
    free_names(names);
}

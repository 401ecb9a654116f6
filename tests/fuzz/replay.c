/* Runs a fuzz target's LLVMFuzzerTestOneInput over every file of the
 * directories named on the command line, in name order: the seeds and
 * regression inputs, replayed by a build without libFuzzer (suite
 * 'fuzz-replay'). A target's broken promise aborts, failing the test; a
 * directory that is missing, unreadable or empty fails it too.
 *
 *     fuzz_replay_NAME tests/fuzz/corpus/NAME [tests/fuzz/regressions/NAME] */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int compare(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int regular(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* The whole file in a buffer of exactly its size (malloc(0) aside), so the
 * sanitizers see a read past the input's end. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long size;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(data = malloc(size ? (size_t)size : 1)) ||
        fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "replay: reading %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        free(data);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int status = 0;
    for (int i = 1; i < argc; i++) {
        struct dirent **names;
        int n = scandir(argv[i], &names, regular, compare);
        if (n <= 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], n < 0 ? strerror(errno) : "no inputs");
            status = 1;
            continue;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
            if (replay_file(path) != 0)
                status = 1;
            free(names[k]);
        }
        free(names);
        printf("replay: %d inputs of %s\n", n, argv[i]);
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR...\n", argv[0]);
        status = 1;
    }
    return status;
}

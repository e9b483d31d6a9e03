/* Namespaces belong to threads (docs/life.md). The second thread of this
 * process moves to a new UTS namespace and names it, while the main thread
 * stays where it was; then it asks for what the kernel gives only to a
 * thread that is alone in its process, or alone with its root and working
 * directory. The main thread shows where each thread is. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t moved, looked;

static int say(const char *call, int result)
{
    printf("second thread: %s: %s\n", call, result == 0 ? "done" : strerror(errno));
    return result;
}

static void *second(void *arg)
{
    int mnt = open("/proc/self/ns/mnt", O_RDONLY);
    int timens = open("/proc/self/ns/time", O_RDONLY);

    /* The hostname only once the UTS namespace is surely a new one. */
    if (say("unshare(CLONE_NEWUTS)", unshare(CLONE_NEWUTS)) == 0)
        say("sethostname(\"second\")", sethostname("second", 6));
    say("unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER));
    say("setns(mnt)", setns(mnt, CLONE_NEWNS));
    if (say("unshare(CLONE_FS)", unshare(CLONE_FS)) == 0)
        say("setns(mnt)", setns(mnt, CLONE_NEWNS));
    say("setns(time)", setns(timens, CLONE_NEWTIME));
    fflush(stdout);
    pthread_barrier_wait(&moved);
    pthread_barrier_wait(&looked);
    return arg;
}

int main(void)
{
    pthread_t thread;

    pthread_barrier_init(&moved, NULL, 2);
    pthread_barrier_init(&looked, NULL, 2);
    pthread_create(&thread, NULL, second, NULL);
    pthread_barrier_wait(&moved);
    /* A shell forked by the main thread starts in the main thread's
     * namespaces; its $PPID is this process. */
    system("hostname; for task in /proc/$PPID/task/*; do echo $task $(readlink $task/ns/uts); done");
    pthread_barrier_wait(&looked);
    return pthread_join(thread, NULL);
}

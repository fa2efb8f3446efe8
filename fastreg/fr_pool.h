/* A small fork-safe thread pool, owned by fastreg._runtime.
 *
 * fr_pool_run(fn, ctx, n_tasks, n_threads) calls fn(ctx, t) once for every
 * task t in [0, n_tasks), on up to n_threads threads (the caller is one of
 * them), and returns when all are done.  Tasks are handed out by an atomic
 * counter; kernels make results independent of which thread ran a task by
 * writing disjoint memory per task and reducing per-task partials in task
 * order.
 *
 * The pool is used by one job at a time.  A caller that finds it busy (another
 * Python thread's kernel is running) runs its tasks itself instead of waiting.
 * Fork safety: pthread_atfork makes fork() wait for a running job, and the child
 * starts with an empty pool that spawns fresh workers on first use; GNU OpenMP
 * hangs in exactly this situation, which is why fastreg has its own pool. */
#ifndef FR_POOL_H
#define FR_POOL_H

#include <stdint.h>

typedef void (*fr_task_fn)(void *ctx, int64_t task);

#define FR_MAX_THREADS 256

#if FR_HAVE_THREADS
#include <pthread.h>

static struct {
    pthread_mutex_t busy;  /* held by the job in flight */
    pthread_mutex_t lock;  /* guards the fields below */
    pthread_cond_t wake;   /* workers wait here for a new generation */
    pthread_cond_t done;   /* the caller waits here for pending == 0 */
    int n_workers;         /* worker threads spawned so far */
    int n_helpers;         /* workers taking part in the current job */
    int pending;           /* helpers still running the current job */
    uint64_t generation;
    fr_task_fn fn;
    void *ctx;
    int64_t n_tasks;
    int64_t next_task;     /* atomic */
    uint64_t born[FR_MAX_THREADS]; /* generation at each worker's spawn */
    int atfork_registered;
} fr_pool = {.busy = PTHREAD_MUTEX_INITIALIZER, .lock = PTHREAD_MUTEX_INITIALIZER,
             .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void fr_pool_drain(void)
{
    int64_t t;
    while ((t = __atomic_fetch_add(&fr_pool.next_task, 1, __ATOMIC_RELAXED)) < fr_pool.n_tasks)
        fr_pool.fn(fr_pool.ctx, t);
}

static void *fr_pool_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    pthread_mutex_lock(&fr_pool.lock);
    /* Not the generation now: a job may have started since the spawn. */
    uint64_t seen = fr_pool.born[id];
    for (;;) {
        while (fr_pool.generation == seen)
            pthread_cond_wait(&fr_pool.wake, &fr_pool.lock);
        seen = fr_pool.generation;
        if (id >= fr_pool.n_helpers)
            continue;
        pthread_mutex_unlock(&fr_pool.lock);
        fr_pool_drain();
        pthread_mutex_lock(&fr_pool.lock);
        if (--fr_pool.pending == 0)
            pthread_cond_signal(&fr_pool.done);
    }
    return NULL;
}

static void fr_pool_atfork_prepare(void) { pthread_mutex_lock(&fr_pool.busy); }
static void fr_pool_atfork_parent(void) { pthread_mutex_unlock(&fr_pool.busy); }
static void fr_pool_atfork_child(void)
{
    /* The workers do not exist in the child: start again from nothing. */
    pthread_mutex_init(&fr_pool.busy, NULL);
    pthread_mutex_init(&fr_pool.lock, NULL);
    pthread_cond_init(&fr_pool.wake, NULL);
    pthread_cond_init(&fr_pool.done, NULL);
    fr_pool.n_workers = 0;
    fr_pool.n_helpers = 0;
    fr_pool.pending = 0;
}

/* Spawns workers up to `wanted`; returns how many exist. Called with `busy` held. */
static int fr_pool_grow(int wanted)
{
    if (!fr_pool.atfork_registered) {
        pthread_atfork(fr_pool_atfork_prepare, fr_pool_atfork_parent, fr_pool_atfork_child);
        fr_pool.atfork_registered = 1;
    }
    while (fr_pool.n_workers < wanted) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&fr_pool.lock);
        fr_pool.born[fr_pool.n_workers] = fr_pool.generation;
        pthread_mutex_unlock(&fr_pool.lock);
        int failed = pthread_create(&thread, &attr, fr_pool_worker,
                                    (void *)(intptr_t)fr_pool.n_workers);
        pthread_attr_destroy(&attr);
        if (failed)
            break;
        fr_pool.n_workers++;
    }
    return fr_pool.n_workers;
}

static inline void fr_pool_run(fr_task_fn fn, void *ctx, int64_t n_tasks, int n_threads)
{
    if (n_tasks <= 0)
        return;
    if (n_threads > FR_MAX_THREADS)
        n_threads = FR_MAX_THREADS;
    int helpers = (int)(n_tasks < n_threads ? n_tasks : n_threads) - 1;
    if (helpers <= 0 || pthread_mutex_trylock(&fr_pool.busy) != 0) {
        for (int64_t t = 0; t < n_tasks; t++)
            fn(ctx, t);
        return;
    }
    int available = fr_pool_grow(helpers);
    if (helpers > available)
        helpers = available;
    pthread_mutex_lock(&fr_pool.lock);
    fr_pool.fn = fn;
    fr_pool.ctx = ctx;
    fr_pool.n_tasks = n_tasks;
    fr_pool.next_task = 0;
    fr_pool.n_helpers = helpers;
    fr_pool.pending = helpers;
    fr_pool.generation++;
    pthread_cond_broadcast(&fr_pool.wake);
    pthread_mutex_unlock(&fr_pool.lock);

    fr_pool_drain();

    pthread_mutex_lock(&fr_pool.lock);
    while (fr_pool.pending > 0)
        pthread_cond_wait(&fr_pool.done, &fr_pool.lock);
    pthread_mutex_unlock(&fr_pool.lock);
    pthread_mutex_unlock(&fr_pool.busy);
}

static inline int fr_pool_workers(void) { return fr_pool.n_workers; }

#else /* built without threads */

static inline void fr_pool_run(fr_task_fn fn, void *ctx, int64_t n_tasks, int n_threads)
{
    (void)n_threads;
    for (int64_t t = 0; t < n_tasks; t++)
        fn(ctx, t);
}

static inline int fr_pool_workers(void) { return 0; }

#endif
#endif

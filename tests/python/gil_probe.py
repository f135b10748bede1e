"""A probe for "does this call release the GIL?": the main thread counts loop iterations while
the call runs in another thread (shared by test_api and test_optim)."""
import threading
import time


def main_thread_rate_while(fn):
    """Runs fn in a thread and counts the main thread's loop iterations until it returns;
    returns (count, iterations per second of wall time)."""
    started, done = threading.Event(), threading.Event()

    def run():
        started.set()
        fn()
        done.set()

    th = threading.Thread(target=run)
    t0 = time.perf_counter()
    th.start()
    started.wait()
    count = 0
    while not done.is_set():
        count += 1
    wall = time.perf_counter() - t0
    th.join()
    return count, count / wall

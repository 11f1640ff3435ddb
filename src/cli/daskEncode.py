"""The Dask client of `hypencoder-web index --dask` (src/cli/daskEncode.ts starts it).

Not PyTorch and not training: a Dask client only (python3-distributed). It submits one task per
vector tile; the task runs this CLI's `encode-tile` on whichever worker Dask picks, so the vectors
are the single-machine encoder's. Dask retries a task that raised (`retries`) and reschedules one
whose worker died (up to the scheduler's `allowed-failures`). At most 2 tasks per worker are in
flight, so memory stays bounded whatever the corpus. Each finished tile is written into the work
folder (temporary file, then rename) and reported as a JSON line on stdout:
    {"event": "started", "workers": N}
    {"event": "tile", "tile": T, "sha256": "..."}
    {"event": "error", "error": "..."}       (then exit 1; 3 when the scheduler cannot be reached)
The driver and its local cluster stop when its stdin closes (the Node process that started it is gone).
"""
import argparse
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading

# Fault injection for the tests: the task of this tile kills its own worker process on every try.
KILL_TILE_ENV = "HYPENCODER_DASK_TEST_KILL_TILE"
TASK_RETRIES = 2
# A lost worker's task is rescheduled this many times before Dask gives up on it (local clusters).
ALLOWED_FAILURES = 3
CONNECT_TIMEOUT = "15s"


def emit(**msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def encode_tile(node, cli, spec_bytes, tile, kill_tile):
    """Runs on a worker: encode-tile with the spec on stdin, the tile's float32 rows back."""
    if kill_tile is not None and kill_tile == tile:
        os.kill(os.getpid(), 9)
    p = subprocess.run([node, cli, "encode-tile"], input=spec_bytes, capture_output=True)
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"tile {tile}: encode-tile exited with {p.returncode}: {err[-1] if err else ''}")
    return p.stdout


def spec_path(work, t):
    return os.path.join(work, "dask", f"{t:05d}.json")


def tile_path(work, t):
    return os.path.join(work, "tiles", f"{t:05d}.f32")


def write_atomic(path, data):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def stop_with_parent():
    """The driver, a local cluster's workers and their encode-tile processes form one process group;
    it is killed whole when the Node process is gone (stdin closes) or sends SIGTERM, so a killed
    or interrupted index run leaves no workers behind."""
    os.setpgrp()

    def kill_group(*_):
        os.killpg(0, signal.SIGKILL)

    signal.signal(signal.SIGTERM, kill_group)

    def watch():
        sys.stdin.read()
        kill_group()

    threading.Thread(target=watch, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--tiles", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--local", type=int)
    ap.add_argument("--scheduler")
    a = ap.parse_args()
    stop_with_parent()
    logging.getLogger("distributed").setLevel(logging.ERROR)

    import dask
    from distributed import Client, KilledWorker, LocalCluster, as_completed

    dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES})
    tiles = [int(t) for t in a.tiles.split(",") if t]
    kill = os.environ.get(KILL_TILE_ENV)
    kill_tile = int(kill) if kill else None
    cluster = None
    try:
        if a.local:
            cluster = LocalCluster(
                n_workers=a.local, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
            )
            client = Client(cluster)
        else:
            client = Client(a.scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as e:
        emit(event="error", error=f"cannot reach the Dask scheduler at {a.scheduler or 'a local cluster'} within {CONNECT_TIMEOUT}: {e}")
        return 3
    try:
        workers = len(client.scheduler_info().get("workers", {}))
        if workers == 0:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            workers = len(client.scheduler_info().get("workers", {}))
        emit(event="started", workers=workers)
        in_flight = max(2, 2 * workers)
        queue = list(tiles)
        futures = {}

        def submit(t):
            with open(spec_path(a.work, t), "rb") as f:
                spec = f.read()
            fut = client.submit(
                encode_tile, a.node, a.cli, spec, t, kill_tile, key=f"encode-tile-{t}-{hashlib.sha256(spec).hexdigest()[:16]}", retries=TASK_RETRIES, pure=False
            )
            futures[fut.key] = t
            return fut

        pool = as_completed([submit(queue.pop(0)) for _ in range(min(in_flight, len(queue)))])
        for fut in pool:
            t = futures.pop(fut.key)
            try:
                data = fut.result()
            except KilledWorker:
                emit(event="error", error=f"tile {t}: its worker died on each of {ALLOWED_FAILURES} tries (distributed.scheduler.allowed-failures); nothing was written to --out, and the finished tiles are kept for a rerun")
                return 1
            except Exception as e:  # noqa: BLE001 - the task's own error, reported as is
                emit(event="error", error=f"{e} (after {TASK_RETRIES + 1} tries); nothing was written to --out, and the finished tiles are kept for a rerun")
                return 1
            write_atomic(tile_path(a.work, t), data)
            emit(event="tile", tile=t, sha256=hashlib.sha256(data).hexdigest())
            if queue:
                pool.add(submit(queue.pop(0)))
        return 0
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    sys.exit(main())

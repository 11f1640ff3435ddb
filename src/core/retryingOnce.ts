// A lazily started job whose answer is shared: the first call starts it, later calls get the same
// promise; a failure is not kept, so the next call starts it again (a fetch that failed offline, a
// wasm build that did not load).

export function retryingOnce<T>(start: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    if (pending) return pending;
    const p = start();
    pending = p;
    p.catch(() => {
      if (pending === p) pending = null;
    });
    return p;
  };
}

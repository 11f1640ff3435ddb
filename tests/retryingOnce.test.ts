import { describe, expect, it } from 'vitest';
import { retryingOnce } from '../src/core/retryingOnce.ts';

describe('retryingOnce', () => {
  it('starts the job once and gives every caller the same answer', async () => {
    let starts = 0;
    const get = retryingOnce(async () => ++starts);
    const [a, b] = await Promise.all([get(), get()]);
    expect([a, b, await get()]).toEqual([1, 1, 1]);
    expect(starts).toBe(1);
  });

  it('forgets a failure: the calls waiting on it fail, the next call starts the job again', async () => {
    let starts = 0;
    const get = retryingOnce(async () => {
      starts++;
      if (starts === 1) throw new Error('offline');
      return 'index';
    });
    const first = [get(), get()];
    await expect(first[0]).rejects.toThrow('offline');
    await expect(first[1]).rejects.toThrow('offline');
    expect(await get()).toBe('index');
    expect(await get()).toBe('index');
    expect(starts).toBe(2);
  });
});

import { InputCache } from './input-cache.js';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
/** A fetch that counts its calls. */
function source(content: Uint8Array | Error) {
  const calls = { n: 0 };
  const fetch = async () => {
    calls.n += 1;
    if (content instanceof Error) throw content;
    return content;
  };
  return { calls, fetch };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('InputCache', () => {
  test('two jobs reading the same object version, at once or one after the other, fetch it once; a third fetches again', async () => {
    const cache = new InputCache();
    const { calls, fetch } = source(bytes(3));
    const [a, b] = await Promise.all([cache.read('b', 'k', '"e1"', fetch), cache.read('b', 'k', '"e1"', fetch)]);
    expect(a).toEqual(bytes(3));
    expect(b).toEqual(bytes(3));
    expect(calls.n).toBe(1);
    expect(cache.size).toBe(0);

    await cache.read('b', 'k', '"e1"', fetch);
    await settle();
    expect(await cache.read('b', 'k', '"e1"', fetch)).toEqual(bytes(3));
    expect(calls.n).toBe(2);
    await cache.read('b', 'k', '"e1"', fetch);
    expect(calls.n).toBe(3);
    expect(cache.hits).toBe(2);
  });

  test('another ETag (a replaced object), key or bucket, or no ETag, is fetched', async () => {
    const cache = new InputCache();
    const { calls, fetch } = source(bytes(3));
    await cache.read('b', 'k', '"e1"', fetch);
    await cache.read('b', 'k', '"e2"', fetch);
    await cache.read('b', 'other', '"e1"', fetch);
    await cache.read('c', 'k', '"e1"', fetch);
    await cache.read('b', 'k', undefined, fetch);
    await cache.read('b', 'k', undefined, fetch);
    expect(calls.n).toBe(6);
  });

  test('a failed read is shared by the job waiting on it, and not kept', async () => {
    const cache = new InputCache();
    const failing = source(new Error('NoSuchKey'));
    const both = [cache.read('b', 'k', 'x', failing.fetch), cache.read('b', 'k', 'x', failing.fetch)];
    await expect(both[0]).rejects.toThrow('NoSuchKey');
    await expect(both[1]).rejects.toThrow('NoSuchKey');
    expect(failing.calls.n).toBe(1);
    await expect(cache.read('b', 'k', 'x', failing.fetch)).rejects.toThrow('NoSuchKey');
    await settle();
    expect(cache.size).toBe(0);
  });

  test('holds at most maxBytes, oldest out first; an object larger than that is not kept', async () => {
    const cache = new InputCache(10);
    const reads = { a: source(bytes(4, 1)), b: source(bytes(4, 2)), c: source(bytes(4, 3)), big: source(bytes(11)) };
    for (const [key, s] of Object.entries(reads)) await cache.read('b', key, 'x', s.fetch);
    await settle();
    for (const key of ['c', 'b', 'big', 'a'] as const) await cache.read('b', key, 'x', reads[key].fetch);
    expect(Object.fromEntries(Object.entries(reads).map(([key, s]) => [key, s.calls.n]))).toEqual({ a: 2, b: 1, c: 1, big: 2 });
  });
});

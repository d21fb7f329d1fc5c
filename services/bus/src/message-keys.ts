// A message key's UTF-8 bytes, made once per key. kafkajs turns a string key into bytes twice a
// message (the partitioner's murmur2, then the record's encoder); a run's events all share one key,
// so a producer sees a handful of keys, thousands of times each.

/** Keys remembered before the cache starts again (a producer of that many runs at once is rare). */
const MAX_KEYS = 4096;

export class MessageKeys {
  private readonly cache = new Map<string, Buffer>();

  bytes(key: string): Buffer {
    let b = this.cache.get(key);
    if (b === undefined) {
      if (this.cache.size >= MAX_KEYS) this.cache.clear();
      b = Buffer.from(key, 'utf8');
      this.cache.set(key, b);
    }
    return b;
  }

  get size(): number {
    return this.cache.size;
  }
}

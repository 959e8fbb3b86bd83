/**
 * The Hawk nonces seen while their timestamps still pass the skew check, so a captured header is
 * accepted once. Nonces are kept per timestamp second, and whole seconds are dropped once they
 * fall out of the window. Each `artifact serve` process keeps its own cache.
 */
export class NonceCache {
  private readonly byTimestamp = new Map<number, Set<string>>();
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly windowSeconds: number) {}

  /** Records the nonce; returns false when this client already sent it with this timestamp. */
  remember(clientId: string, ts: number, nonce: string, nowSeconds: number): boolean {
    this.prune(nowSeconds);
    const key = `${clientId}\n${nonce}`;
    let seen = this.byTimestamp.get(ts);
    if (!seen) {
      seen = new Set();
      this.byTimestamp.set(ts, seen);
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }

  /** Number of nonces kept. */
  get size(): number {
    let count = 0;
    for (const seen of this.byTimestamp.values()) count += seen.size;
    return count;
  }

  /** Drops the seconds that no header can pass the skew check with any more; runs once per new second. */
  private prune(nowSeconds: number): void {
    if (nowSeconds === this.prunedAt) return;
    this.prunedAt = nowSeconds;
    for (const ts of this.byTimestamp.keys()) {
      if (ts < nowSeconds - this.windowSeconds) this.byTimestamp.delete(ts);
    }
  }
}

/**
 * A bounded list: pushing past capacity drops the oldest item. Constant-time push and index
 * access, so 10,000 live events cost the same per message as 10.
 */
export class Ring<T> {
  private buf: (T | undefined)[];
  private start = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size < this.capacity) {
      this.buf[(this.start + this.size) % this.capacity] = item;
      this.size++;
    } else {
      this.buf[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** Item i, 0 = oldest. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.buf[(this.start + i) % this.capacity];
  }

  /** The newest item. */
  last(): T | undefined {
    return this.at(this.size - 1);
  }

  clear(): void {
    this.buf = new Array<T | undefined>(this.capacity);
    this.start = 0;
    this.size = 0;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.buf[(this.start + i) % this.capacity] as T);
    return out;
  }

  /** Items matching a predicate, oldest first. */
  filter(pred: (item: T) => boolean): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.size; i++) {
      const item = this.buf[(this.start + i) % this.capacity] as T;
      if (pred(item)) out.push(item);
    }
    return out;
  }
}

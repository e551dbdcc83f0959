/**
 * Counts the sequence numbers 0..expected-1 a subscriber received: distinct ones, duplicates (a
 * QoS 1 redelivery is allowed, but reported), and which are missing, as compact ranges.
 */
export class SequenceTally {
  readonly expected: number;
  readonly #seen: Uint8Array;
  #distinct = 0;
  #duplicates = 0;
  #foreign = 0;

  constructor(expected: number) {
    if (!Number.isInteger(expected) || expected < 0) throw new RangeError(`expected must be a whole number ≥ 0, got ${expected}`);
    this.expected = expected;
    this.#seen = new Uint8Array(expected);
  }

  /** Records one payload; anything that is not a sequence number of this run counts as foreign. */
  addPayload(payload: Buffer | string): void {
    const text = payload.toString();
    this.add(/^\d{1,10}$/.test(text) ? Number(text) : Number.NaN);
  }

  add(sequence: number): void {
    if (!Number.isInteger(sequence) || sequence < 0 || sequence >= this.expected) {
      this.#foreign++;
      return;
    }
    if (this.#seen[sequence] === 1) {
      this.#duplicates++;
      return;
    }
    this.#seen[sequence] = 1;
    this.#distinct++;
  }

  get distinct(): number {
    return this.#distinct;
  }

  get duplicates(): number {
    return this.#duplicates;
  }

  get foreign(): number {
    return this.#foreign;
  }

  get missing(): number {
    return this.expected - this.#distinct;
  }

  get complete(): boolean {
    return this.#distinct === this.expected;
  }

  /** Missing numbers as inclusive ranges, e.g. [[1000, 4999]]. */
  missingRanges(): Array<[number, number]> {
    const ranges: Array<[number, number]> = [];
    let start = -1;
    for (let index = 0; index <= this.expected; index++) {
      const missing = index < this.expected && this.#seen[index] === 0;
      if (missing && start < 0) start = index;
      if (!missing && start >= 0) {
        ranges.push([start, index - 1]);
        start = -1;
      }
    }
    return ranges;
  }
}

/** `1000-4999`, `7, 9-12 and 3 more ranges`: short enough for a report line. */
export function describeRanges(ranges: Array<[number, number]>, shown = 3): string {
  const text = ranges.slice(0, shown).map(([from, to]) => (from === to ? String(from) : `${from}-${to}`));
  const rest = ranges.length - shown;
  return rest > 0 ? `${text.join(', ')} and ${rest} more range${rest === 1 ? '' : 's'}` : text.join(', ');
}

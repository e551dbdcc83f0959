import type { Connection } from './mqtt-client.ts';
import { SequenceTally } from './sequence-tally.ts';

export type DrainEnd = 'complete' | 'quiet' | 'timeout' | 'closed';

export interface DrainResult {
  end: DrainEnd;
  /** From CONNACK to the last message (or to the end of the wait when none came). */
  drainMs: number;
}

/**
 * Counts the sequence numbers arriving on one topic. Its `handle` is given to attemptConnect as
 * onMessage, so it listens before the CONNECT leaves and sees a kept session's first message.
 */
export class MessageCollector {
  readonly topic: string;
  readonly tally: SequenceTally;
  lastMessageAt: number | undefined;
  #notify: (() => void) | undefined;

  constructor(topic: string, expected: number) {
    this.topic = topic;
    this.tally = new SequenceTally(expected);
  }

  readonly handle = (topic: string, payload: Buffer): void => {
    if (topic !== this.topic) return;
    this.tally.addPayload(payload);
    this.lastMessageAt = performance.now();
    this.#notify?.();
  };

  /**
   * Waits until every expected number arrived, or no new message came for quietMs, or timeoutMs
   * passed, or the connection closed: whichever is first. Never a fixed sleep.
   */
  wait(connection: Connection, options: { quietMs: number; timeoutMs: number }): Promise<DrainResult> {
    return new Promise((resolve) => {
      let quietTimer: NodeJS.Timeout | undefined;
      const finish = (end: DrainEnd): void => {
        clearTimeout(quietTimer);
        clearTimeout(overallTimer);
        removeClose();
        this.#notify = undefined;
        const endAt = this.lastMessageAt ?? performance.now();
        resolve({ end, drainMs: Math.max(0, endAt - connection.connectedAt) });
      };
      const armQuiet = (): void => {
        clearTimeout(quietTimer);
        quietTimer = setTimeout(() => finish('quiet'), options.quietMs);
      };
      const overallTimer = setTimeout(() => finish('timeout'), options.timeoutMs);
      const removeClose = connection.onClose(() => finish('closed'));
      this.#notify = () => {
        if (this.tally.complete) finish('complete');
        else armQuiet();
      };
      if (this.tally.complete) finish('complete');
      else armQuiet();
    });
  }
}

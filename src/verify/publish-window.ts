import type { Connection } from './mqtt-client.ts';

export interface PublishSequenceOptions {
  /** Publishes sent but not yet acknowledged; bounded so 50000 messages never pile up in memory. */
  window: number;
  /** Bound for the whole sequence, from the first PUBLISH to the last PUBACK. */
  timeoutMs: number;
  /** The sequence number starts at this value; the payload is the number in decimal. */
  first?: number;
}

export interface PublishSequenceResult {
  acknowledged: number;
  durationMs: number;
}

/**
 * Publishes `count` QoS 1 messages whose payloads are their sequence numbers, keeping at most
 * `window` unacknowledged, and resolves once the broker acknowledged every one of them.
 */
export function publishSequence(
  connection: Connection,
  topic: string,
  count: number,
  options: PublishSequenceOptions,
): Promise<PublishSequenceResult> {
  const first = options.first ?? 0;
  const window = Math.max(1, Math.floor(options.window));
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    let next = 0;
    let outstanding = 0;
    let acknowledged = 0;
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      removeClose();
      if (error) reject(error);
      else resolve({ acknowledged, durationMs: performance.now() - startedAt });
    };
    const timer = setTimeout(
      () => finish(new Error(`only ${acknowledged} of ${count} publishes were acknowledged within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const removeClose = connection.onClose(() =>
      finish(new Error(`the publisher's connection closed after ${acknowledged} of ${count} acknowledgements: ${connection.closeReason}`)),
    );
    const pump = (): void => {
      while (!done && outstanding < window && next < count) {
        const sequence = first + next++;
        outstanding++;
        connection.client.publish(topic, String(sequence), { qos: 1 }, (error) => {
          outstanding--;
          if (error) {
            finish(new Error(`publish ${sequence} failed: ${error.message}`));
            return;
          }
          acknowledged++;
          if (acknowledged === count) finish();
          else pump();
        });
      }
    };
    if (count === 0) finish();
    else pump();
  });
}

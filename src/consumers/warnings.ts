import type { Settings } from '../settings/load.ts';

/**
 * What the broker's session settings cannot hold for a consumer: an outage longer than the session
 * expiry (the session and its queue are dropped), or a backlog larger than the per-client queue
 * (the rest is dropped silently: the field report's "only the latest 1000 kept"). Pure: a warning,
 * not an error, because the operator may know the outage or backlog will stay smaller.
 */
export function consumerWarnings(settings: Pick<Settings, 'consumers' | 'session' | 'broker'>): string[] {
  const warnings: string[] = [];
  const { session } = settings;
  settings.consumers.forEach((consumer, index) => {
    const field = `settings.consumers[${index}]`;
    if (!session.persistent) {
      warnings.push(`${field} (${consumer.name}): session.persistent is false, so the broker keeps no session for it and every message published while it is offline is lost`);
    }
    if (consumer.maxOfflineSeconds !== undefined && session.persistent && consumer.maxOfflineSeconds > session.expirySeconds) {
      warnings.push(`${field}.maxOfflineSeconds (${consumer.name}): ${consumer.maxOfflineSeconds} s offline outlives session.expirySeconds (${session.expirySeconds} s); the broker drops its session and queued messages after that — raise session.expirySeconds`);
    }
    if (consumer.expectedBacklog !== undefined && consumer.expectedBacklog > session.maxQueuedMessages) {
      warnings.push(`${field}.expectedBacklog (${consumer.name}): ${consumer.expectedBacklog} messages exceed session.maxQueuedMessages (${session.maxQueuedMessages}); the broker drops the rest silently — raise session.maxQueuedMessages`);
    }
    consumer.topics.forEach((topic, topicIndex) => {
      if (topic.qos === 0) {
        warnings.push(`${field}.topics[${topicIndex}] (${consumer.name}): QoS 0 subscription to "${topic.topic}" downgrades every message to at most once; use qos 1`);
      }
    });
  });
  return warnings;
}

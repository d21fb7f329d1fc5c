import { TOPICS } from '@grokstream/schemas';
import type { TopicSpec } from './bus.ts';

/**
 * Largest record batch the dead-letter topic takes. A letter wraps the original bytes plus its
 * reason and source, so a message near the fact streams' 1 MB limit needs more room than they have.
 */
export const DEAD_LETTER_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The four topics of the event model, with the fact streams spread over `partitions`. */
export function standardTopics(partitions: number): TopicSpec[] {
  return [
    { topic: TOPICS.events, partitions },
    { topic: TOPICS.phases, partitions },
    { topic: TOPICS.control, partitions },
    { topic: TOPICS.deadLetter, partitions: 1, config: { 'max.message.bytes': String(DEAD_LETTER_MAX_MESSAGE_BYTES) } },
  ];
}

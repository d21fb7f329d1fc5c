import { TOPICS } from '@grokstream/schemas';
import type { TopicSpec } from './bus.ts';

/** The four topics of the event model, with the fact streams spread over `partitions`. */
export function standardTopics(partitions: number): TopicSpec[] {
  return [
    { topic: TOPICS.events, partitions },
    { topic: TOPICS.phases, partitions },
    { topic: TOPICS.control, partitions },
    { topic: TOPICS.deadLetter, partitions: 1 },
  ];
}

export type { Batch, Bus, BusMessage, Consumer, ConsumerOptions, OutgoingMessage, Producer, TopicSpec } from './bus.ts';
export { MemoryBus } from './memory-bus.ts';
export { KafkaBus, parseBrokers, type KafkaBusOptions } from './kafka-bus.ts';
export { murmur2, partitionForKey } from './partitioner.ts';
export { EventPublisher, eventConsumer, deadLetterFor, type ReceivedEvent, type EventConsumerOptions } from './events.ts';
export { standardTopics } from './topics.ts';
export { readAll } from './read-all.ts';
export { waitUntil } from './wait.ts';

export type { Batch, Bus, BusMessage, Consumer, ConsumerOptions, OutgoingMessage, Producer, ProducerOptions, TopicSpec } from './bus.ts';
export { MemoryBus, type MemoryBusOptions } from './memory-bus.ts';
export { KafkaBus, parseBrokers, type KafkaBusOptions } from './kafka-bus.ts';
export { kafkaLogLine, type KafkaLog, type KafkaLogLevelName } from './kafka-log.ts';
export { murmur2, partitionForKey } from './partitioner.ts';
export {
  EventPublisher,
  eventConsumer,
  deadLetterFor,
  backoffDelay,
  DeadLetterWriteError,
  type EventConsumer,
  type EventConsumerStats,
  type ReceivedEvent,
  type EventConsumerOptions,
} from './events.ts';
export { DeadLetterMemory, deadLetterId } from './dead-letter-memory.ts';
export {
  DEFAULT_MAX_REQUEST_BYTES,
  KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
  RecordTooLargeError,
  SendError,
} from './request-size.ts';
export { standardTopics, DEAD_LETTER_MAX_MESSAGE_BYTES } from './topics.ts';
export { readAll, scanAll } from './read-all.ts';
export { waitUntil } from './wait.ts';
export { readRunTail, type RunTail } from './run-tail.ts';
export { consumerLag } from './lag.ts';
export { RemoteBus, RemoteBusHost, type RemoteBusHostOptions } from './remote-bus.ts';
export { portChannel, processChannel, type BusChannel } from './bus-channel.ts';

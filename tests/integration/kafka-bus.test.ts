import { beforeAll } from 'vitest';
import { KafkaBus } from '@grokstream/bus';
import { busContract } from '../../services/bus/src/bus.contract.ts';
import { KAFKA_BROKERS, requireKafka } from './services.ts';

beforeAll(requireKafka);

busContract(`Kafka at ${KAFKA_BROKERS.join(',')}`, async () => new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'nothing' }), {
  timeoutMs: 60_000,
  quietMs: 1_500,
});

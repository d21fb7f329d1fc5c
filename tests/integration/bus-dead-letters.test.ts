// Issue 7 on the real broker: a flood of malformed messages (some near 1 MB) with good events
// among them; see services/bus/src/dead-letters.acceptance.ts.
import { beforeAll } from 'vitest';
import { KafkaBus } from '@grokstream/bus';
import { deadLetterAcceptance } from '../../services/bus/src/dead-letters.acceptance.ts';
import { KAFKA_BROKERS, requireKafka } from './services.ts';

beforeAll(requireKafka);

deadLetterAcceptance(`Kafka at ${KAFKA_BROKERS.join(',')}`, async () => new KafkaBus({ brokers: KAFKA_BROKERS, logLevel: 'error' }), {
  timeoutMs: 60_000,
  report: (line) => console.log(line),
});

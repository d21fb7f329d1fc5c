import { SETTINGS_HELP } from '@grokstream/shell';

export const HELP = `grokstream: an event-sourced pipeline for training dynamics

Usage:
  grokstream run CONFIG.yaml [key.path=value ...] [options]
      Train the run CONFIG describes (examples/*.yaml), with dotted overrides such as
      optimizer.lr=1e-3. Events go to the in-process bus, or to Kafka with --kafka.
      --kafka BROKERS     host:port[,host:port] (default: $GROKSTREAM_KAFKA_BROKERS, else in-process)
      --resume RUN_ID     continue RUN_ID from its latest checkpoint (same config); first re-sends
                          any events an outage left in a spill file
      --partitions N      partitions for topics created on Kafka (default $GROKSTREAM_PARTITIONS or 4)
      --events-file PATH  also append every event to an Avro object container file (for replay)
      --quiet             no progress line
  grokstream stop RUN_ID [--reason TEXT] [--kafka BROKERS] [--force]
      Ask a running trainer to stop at its next step boundary (a StopRun command). The run must
      be on the events topic (--force sends the command anyway).
  grokstream resend PATH... [--kafka BROKERS]
      Send the events of spill files (written when a trainer outlived its outage limit), or of
      every spill file in a run's checkpoint directory; each file is deleted once sent.
  grokstream replay --from FILE.avro|FILE.jsonl|TOPIC [--detector CONFIG.yaml] [--run RUN_ID] [--kafka BROKERS] [--emit] [--allow-truncated]
      Run the detectors over stored events (an event log written with --events-file, JSON Lines
      of StepMetrics, or a Kafka topic from the beginning) and print one line per phase change
      and per stop; --emit publishes them. A cut-short .avro file is an error naming the byte
      offset; --allow-truncated replays its complete part.
  grokstream detect [--detector CONFIG.yaml] [--kafka BROKERS] [--partitions N]
      The detector service: phases and early-stop commands for every run on the bus, until Ctrl-C.
  grokstream ingest [--help]
      The ingest service: every event on the bus into ClickHouse (or chdb), until Ctrl-C.
  grokstream query "SQL" | NAME [--run RUN_ID] [--format table|csv|json|jsonl] [--write]
  grokstream query --list
      Ad hoc SQL, or a named query (--list shows them: runs, phases, stops, sweep), against the
      configured store (GROKSTREAM_STORE). Read-only: the engine's readonly setting refuses
      writes unless --write is given.

Exit codes (every command): 0 done, 1 failed (a server unreachable, a bad file, a run suspended
by an outage), 2 bad usage or configuration, 130 interrupted (Ctrl-C or SIGTERM; a run is
checkpointed and can be resumed).

${SETTINGS_HELP}`;

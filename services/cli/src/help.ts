import { SETTINGS_HELP } from '@grokstream/shell';

export const HELP = `grokstream: an event-sourced pipeline for training dynamics

Usage:
  grokstream run CONFIG.yaml [key.path=value ...] [options]
      Train the run CONFIG describes (examples/*.yaml), with dotted overrides such as
      optimizer.lr=1e-3. With nothing configured, the whole pipeline runs in this process: the
      trainer, the detector (its early stops are obeyed as over Kafka), ingest into the embedded
      store (chdb) under $GROKSTREAM_DATA_DIR (default .grokstream/data), the Avro event log, and
      at the end an HTML report. With --kafka (or GROKSTREAM_KAFKA_BROKERS) only the trainer runs,
      against Kafka: the stack's detect and ingest services do the rest.
      --no-detect         no detector (no phases, no early stops)
      --no-store          store nothing (the event log is still written); implies --no-report
      --no-report         no HTML report at the end
      --detector FILE     the detector's phases and policies (YAML; default: the built-in defaults)
      --clickhouse URL    store into this ClickHouse server instead of chdb
      --ui [--port N]     serve the live page while the run trains (default port 8737; 0: any free
                          port), and keep serving after it ends, until Ctrl-C
      --kafka BROKERS     host:port[,host:port] (default: $GROKSTREAM_KAFKA_BROKERS, else embedded)
      --resume RUN_ID     continue RUN_ID from its latest checkpoint (same config); first re-sends
                          any events an outage left in a spill file
      --partitions N      partitions for topics created on Kafka (default $GROKSTREAM_PARTITIONS or 4)
      --events-file PATH  the Avro event log (for replay; default <data>/events/RUN_ID.avro when embedded)
      --quiet             no progress line
  grokstream sweep CONFIG.yaml key=a,b,c key=lo..hi..step ... [--zip k1,k2] [--seeds N]
                   [--workers N] [--rerun FILTER] [--sweep ID] [--dry-run] [run's options: --kafka, --clickhouse,
                   --detector, --no-detect, --no-report, --quiet]
      Train a grid of runs of CONFIG: the cartesian product of the axes (key=a,b,c lists,
      key=lo..hi..step ranges; key=v alone sets v everywhere), keys given to --zip varying in step,
      --seeds N adding run.seed=0..N-1. Every run carries the sweep's id (tag sweep; default the
      config's name and a hash of the grid, so the same command is the same sweep) and the hash
      of its resolved config (tag config_hash): a point with a finished run in the store is
      skipped; --rerun all, or --rerun key=v[,v...] (repeatable: every filter must match), runs
      the points it selects again. Embedded, the points train one after another, or in N trainer
      processes with --workers N (on this machine's cores, each with its share of TensorFlow's
      threads), with one detector stopping runs across the sweep and one store; at the end a table, one row per point
      (memorization step, grok step, delay, final accuracies, stop policy), the steps the stops
      saved, and the sweep's report. --dry-run lists the points and what would run. With --kafka
      (or GROKSTREAM_KAFKA_BROKERS) the points go to the sweeps topic for grokstream worker
      processes; with a store to watch (GROKSTREAM_CLICKHOUSE_URL) it follows them to the end and
      prints the table (--no-wait: publish and return). --checkpoint-dir DIR: where the points'
      runs checkpoint, a directory every worker reaches.
  grokstream worker [--kafka BROKERS] [--checkpoint-dir DIR] [--group ID]
      Train sweep points from Kafka, one at a time, until Ctrl-C; workers in one consumer group
      share them, on any number of machines. A worker that dies has its point resumed by another
      from the last checkpoint (same run id); one that is stopped, or whose group rebalances,
      checkpoints and hands its point back. Every point finishes once, with one RunFinished.
  grokstream report [RUN_ID ...] [--sweep ID] [--out FILE] [--points N] [--clickhouse URL]
      A self-contained HTML report (opens offline) of runs (default: the latest) or of a sweep,
      from the configured store: every panel of the Grafana dashboards, with the same SQL, phases
      as shaded bands and stops as markers. Default file: <data>/reports/<run or sweep>.html.
  grokstream ui [--port N] [--host H] [--refresh SECONDS] [--clickhouse URL]
      The same page served live (default http://127.0.0.1:8737/), refreshed every few seconds,
      with the runs and sweeps to choose from, until Ctrl-C. chdb opens its data in one process
      at a time: to watch an embedded run as it trains, use grokstream run --ui.
  grokstream import FILE.csv|FILE.jsonl [--map field=column ...] [--name NAME] [--run-id ID]
                    [--format csv|jsonl] [--no-detect] [--no-report] [--detector FILE] [--clickhouse URL]
      A log written by another trainer (Keras CSVLogger, Lightning CSVLogger, JSON Lines) as
      grokstream events: into the store, through the detectors, and into a report. Well-known
      column names are mapped by themselves (epoch, loss, accuracy, val_loss, val_accuracy, ...);
      --map train_loss=my_loss maps one explicitly. See examples/imported/README.md.
  grokstream doctor
      What this machine gives grokstream: the backends that load (native TensorFlow's version and
      library location, GPU or CPU; wasm; cpu) and why any does not, the store, Kafka.
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
      configured store (the embedded chdb by default). Read-only: the engine's readonly setting refuses
      writes unless --write is given.

Exit codes (every command): 0 done, 1 failed (a server unreachable, a bad file, a run suspended
by an outage), 2 bad usage or configuration, 130 interrupted (Ctrl-C or SIGTERM; a run is
checkpointed and can be resumed).

${SETTINGS_HELP}`;

export { Ingest, INGEST_TOPICS, type IngestOptions, type IngestStats } from './ingest.ts';
export { project, projectBatch, type Projected } from './projection.ts';

// Topic names of the event model (docs/architecture.md, "Topics"). Versioned: a breaking change
// gets a new topic.
export const TOPICS = {
  events: 'grokstream.events.v1',
  phases: 'grokstream.phases.v1',
  control: 'grokstream.control.v1',
  deadLetter: 'grokstream.deadletter.v1',
  /** Work, not events: the points of sweeps for grokstream worker processes (SweepPoint). */
  sweeps: 'grokstream.sweeps.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

// Which partitions a Kafka group member holds, as far as it can tell from kafkajs's instrumentation
// events (no I/O here, so it is tested without a broker).
//
// - GROUP_JOIN (a join and sync completed): the member holds that generation's assignment.
// - REBALANCING (a fetch failed with REBALANCE_IN_PROGRESS, NOT_COORDINATOR or
//   ILLEGAL_GENERATION): it may not hold anything any more, so it claims nothing.
// - HEARTBEAT (accepted by the coordinator): the member is alive in the generation the heartbeat
//   names. If that is the generation of its last join, that join's assignment holds again.
//
// The last rule is the one kafkajs needs from us. When the coordinator moves (a broker restart),
// kafkajs sees NOT_COORDINATOR, emits REBALANCING and tries to rejoin; if the rejoin fails with a
// retriable error (COORDINATOR_LOAD_IN_PROGRESS while the new coordinator loads the group), kafkajs
// retries the fetch, not the join. The coordinator, once loaded, knows the member in its old
// generation: heartbeats succeed, batches flow, and no GROUP_JOIN ever comes. Without the
// heartbeat rule the member would claim nothing for good while it goes on consuming (a detector
// then held every verdict back: CI run 14, tests/faults/6-sweep-workers).

export interface TopicPartition {
  topic: string;
  partition: number;
}

export class GroupMembership {
  /** What the last join assigned, and to which member id. */
  private joined: { memberId: string; assignment: TopicPartition[]; generation: number | undefined } | undefined;
  private held: TopicPartition[] = [];

  /** GROUP_JOIN: memberAssignment is kafkajs's `{ [topic]: partitions[] }`. */
  join(memberId: string, memberAssignment: Record<string, number[]>): void {
    const assignment = Object.entries(memberAssignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
    this.joined = { memberId, assignment, generation: undefined };
    this.held = assignment;
  }

  /** REBALANCING: nothing is certain until a join or a heartbeat says so. */
  rebalancing(): void {
    this.held = [];
  }

  /**
   * HEARTBEAT, accepted. The first one after a join names the join's generation (a generation
   * only changes by a join, and a join that completes is a GROUP_JOIN).
   */
  heartbeat(memberId: string, generation: number): void {
    const j = this.joined;
    if (!j || j.memberId !== memberId) return;
    j.generation ??= generation;
    if (j.generation === generation) this.held = j.assignment;
  }

  /** The consumer stopped or crashed: its next start is a new member. */
  reset(): void {
    this.joined = undefined;
    this.held = [];
  }

  assignment(): TopicPartition[] {
    return this.held.map((a) => ({ ...a }));
  }
}

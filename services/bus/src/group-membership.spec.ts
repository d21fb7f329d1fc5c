import { describe, expect, it } from 'vitest';
import { GroupMembership } from './group-membership.ts';

const parts = (m: GroupMembership) => m.assignment().map((a) => `${a.topic}/${a.partition}`);

describe('GroupMembership', () => {
  it('holds what the last join assigned, and nothing from a rebalance on', () => {
    const m = new GroupMembership();
    expect(parts(m)).toEqual([]);
    m.join('m1', { events: [0, 2], phases: [1] });
    expect(parts(m)).toEqual(['events/0', 'events/2', 'phases/1']);
    m.rebalancing();
    expect(parts(m)).toEqual([]);
    m.join('m1', { events: [2] });
    expect(parts(m)).toEqual(['events/2']);
  });

  it('a coordinator move that kafkajs never rejoins after: a heartbeat in the joined generation confirms the assignment again', () => {
    // The sequence of CI run 14: joined (generation 7), heartbeats, NOT_COORDINATOR (REBALANCING),
    // the rejoin fails with COORDINATOR_LOAD_IN_PROGRESS, kafkajs fetches on, and the loaded
    // coordinator accepts the member's heartbeats in generation 7. No GROUP_JOIN follows.
    const m = new GroupMembership();
    m.join('m1', { events: [0, 1, 2, 3] });
    m.heartbeat('m1', 7);
    m.rebalancing();
    expect(parts(m)).toEqual([]);
    m.heartbeat('m1', 7);
    expect(parts(m)).toEqual(['events/0', 'events/1', 'events/2', 'events/3']);
  });

  it('the first heartbeat after a join names its generation, even after a rebalance', () => {
    const m = new GroupMembership();
    m.join('m1', { events: [1] });
    m.rebalancing();
    m.heartbeat('m1', 3);
    expect(parts(m)).toEqual(['events/1']);
  });

  it('confirms nothing on a heartbeat in another generation, or of another member', () => {
    const m = new GroupMembership();
    m.join('m1', { events: [0] });
    m.heartbeat('m1', 4);
    m.rebalancing();
    m.heartbeat('m1', 5);
    expect(parts(m)).toEqual([]);
    m.heartbeat('m2', 4);
    expect(parts(m)).toEqual([]);
    m.heartbeat('m1', 4);
    expect(parts(m)).toEqual(['events/0']);
  });

  it('a new join replaces the old assignment: a partition given away is not confirmed by a heartbeat', () => {
    const m = new GroupMembership();
    m.join('m1', { events: [0, 1] });
    m.heartbeat('m1', 1);
    m.rebalancing();
    m.join('m1', { events: [1] });
    m.heartbeat('m1', 2);
    expect(parts(m)).toEqual(['events/1']);
    m.heartbeat('m1', 1); // a late answer to a heartbeat of the old generation
    expect(parts(m)).toEqual(['events/1']);
  });

  it('after a crash (the next start is a new member) holds nothing, whatever the old member heard', () => {
    const m = new GroupMembership();
    m.join('m1', { events: [0] });
    m.heartbeat('m1', 1);
    m.reset();
    expect(parts(m)).toEqual([]);
    m.heartbeat('m1', 1);
    expect(parts(m)).toEqual([]);
  });

  it('hands out copies', () => {
    const m = new GroupMembership();
    m.join('m1', { events: [0] });
    m.assignment()[0]!.partition = 9;
    expect(parts(m)).toEqual(['events/0']);
  });
});

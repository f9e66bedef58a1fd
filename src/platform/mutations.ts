/**
 * Switches that deliberately break Paddock, for proving that the simulator's checkers catch
 * real protocol bugs (test/sim/mutants.test.ts). All are false in production: nothing but a
 * test in the same process can set them.
 */
export interface Mutations {
  /** Leader commits a proposal on the first ACK it gets instead of a quorum. */
  commitOnFirstAck: boolean;
  /** A learner that the leader tells to TRUNC keeps its log. */
  skipTrunc: boolean;
  /** The shell reports txns durable (ACKs them) before their fsync completes. */
  ackBeforeFsync: boolean;
  /** A member that lost its leader (or leadership) keeps answering reads and `sync`. */
  serveReadsWhenDeposed: boolean;
}

export const mutations: Mutations = {
  commitOnFirstAck: false,
  skipTrunc: false,
  ackBeforeFsync: false,
  serveReadsWhenDeposed: false,
};

export function resetMutations(): void {
  mutations.commitOnFirstAck = false;
  mutations.skipTrunc = false;
  mutations.ackBeforeFsync = false;
  mutations.serveReadsWhenDeposed = false;
}

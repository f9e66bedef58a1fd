/**
 * The server the interop tests talk to: a real `paddock start` process (tickTime 200). With
 * PADDOCK_INTEROP_TARGET=apache the same tests run against Apache ZooKeeper 3.8 with the same
 * tickTime, which shows that every expectation in them is ZooKeeper's own behaviour.
 */
import { after, before } from 'node:test';
import { startApacheZooKeeper } from '../support/apache-zookeeper.js';
import { startProcess } from '../support/paddock.js';

export interface Target {
  readonly connectString: string;
  stop(): Promise<void>;
}

export async function startTarget(): Promise<Target> {
  if (process.env.PADDOCK_INTEROP_TARGET === 'apache') return await startApacheZooKeeper({ tickTime: 200, forceSync: false });
  return await startProcess();
}

/**
 * Starts the target before the tests of the suite this is called in and stops it after them.
 * The server exists only from the suite's `before` on, so read connectString in tests and hooks.
 */
export function targetForSuite(): { readonly connectString: string } {
  let target: Target | undefined;
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    await target?.stop();
  });
  return {
    get connectString(): string {
      if (target === undefined) throw new Error('the interop target is not started yet: read connectString inside a test');
      return target.connectString;
    },
  };
}

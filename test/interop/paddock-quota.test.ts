/**
 * Quotas through zkCli.sh, side by side: the same setquota/listquota session against Apache
 * ZooKeeper 3.8 and against Paddock must print the same limits and the same usage figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zkCli, zkCliAvailable } from '../support/cli-tools.js';
import { startProcess, waitForLog } from '../support/paddock.js';
import { apacheZooKeeperAvailable, startApacheZooKeeper } from '../support/apache-zookeeper.js';

const COMMANDS = [
  'create /q',
  'create /q/a 12345',
  'setquota -n 2 /q',
  'listquota /q',
  'create /q/b xy',
  'create /q/c',
  'listquota /q',
  'set /q/a 1',
  'delete /q/c',
  'listquota /q',
  'get /zookeeper/quota/q/zookeeper_stats',
];

/** The command outputs that do not depend on time. */
async function run(connect: string): Promise<string[]> {
  const result = await zkCli(connect, COMMANDS, 60_000);
  assert.equal(result.results.length, COMMANDS.length, result.output);
  return result.results.map((r) => r.output.trim());
}

test(
  'setquota and listquota report the same usage on Paddock and on Apache ZooKeeper',
  { skip: (!zkCliAvailable() || !apacheZooKeeperAvailable()) && 'zkCli.sh or Apache ZooKeeper is not installed' },
  async () => {
    const paddock = await startProcess();
    let ours: string[];
    try {
      ours = await run(paddock.connectString);
      assert.ok(await waitForLog(paddock, /Quota exceeded: \/q count=3/), 'going over a soft limit is logged');
    } finally {
      await paddock.stop();
    }
    const zookeeper = await startApacheZooKeeper({ forceSync: false });
    let theirs: string[];
    try {
      theirs = await run(zookeeper.connectString);
    } finally {
      await zookeeper.stop();
    }
    assert.deepEqual(ours, theirs);
    assert.match(ours.at(-1)!, /^count=3,bytes=3$/);
  },
);

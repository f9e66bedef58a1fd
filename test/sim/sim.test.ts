import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { runSimulation } from './run.js';

describe('simulated ensemble', () => {
  test('a fault-free run: every member applies the same txns and ends with the same digest', async () => {
    // No final power cycle: a restart re-applies the log after each member's own snapshot,
    // so the applied lists would differ by where each member's snapshot was (logs-agree
    // compares them by zxid instead).
    const { history, stats } = await runSimulation({ seed: 1, members: 3, profile: 'none', virtualMs: 4000, finalPowerCycle: false });
    assert.ok(stats.completedOk > 50, `only ${stats.completedOk} ops succeeded`);
    const members = history.members!;
    const applied = members.map((m) => JSON.stringify(m.applied));
    assert.ok(applied.every((a) => a === applied[0]), 'members applied different txns');
    const digests = members.map((m) => m.digests.at(-1));
    assert.ok(digests[0] !== undefined && digests.every((d) => d?.digest === digests[0]!.digest && d?.zxid === digests[0]!.zxid));
    assert.equal(new Set(members.flatMap((m) => m.leaderships.map((l) => `${l.epoch}:${l.leader}`))).size, 1);
  });

  test('the same seed gives the same history, with every fault switched on', async () => {
    const run = async () => JSON.stringify((await runSimulation({ seed: 7, members: 3, profile: 'all', virtualMs: 6000 })).history);
    const first = await run();
    assert.equal(await run(), first);
  });

  test('five members with an observer converge after faults', async () => {
    const { history, stats } = await runSimulation({ seed: 3, members: 5, observers: 1, profile: 'all', virtualMs: 6000 });
    const last = history.members!.map((m) => m.digests.at(-1)?.digest);
    assert.equal(last.length, 6);
    assert.ok(last.every((d) => d !== undefined && d === last[0]), `final digests differ: ${last.join(' ')}`);
    assert.ok(stats.operations > 0);
  });
});

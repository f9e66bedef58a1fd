/** The same operations against Apache ZooKeeper 3.8 (Debian package), when it is installed. */
import { describe } from 'node:test';
import { apacheZooKeeperAvailable, startApacheZooKeeper } from '../../support/apache-zookeeper.js';
import { defineOpsSuite } from './ops-suite.js';

if (apacheZooKeeperAvailable()) {
  defineOpsSuite({
    name: 'Apache ZooKeeper',
    start: () => startApacheZooKeeper({ tickTime: 200, forceSync: false }),
    skip: {
      // 3.8 has no standalone check: it never answers one (NullPointerException in its reply path).
      'check succeeds on the version read and fails otherwise': 'Apache ZooKeeper 3.8 does not answer a standalone check',
    },
  });
} else {
  void describe('client ops against Apache ZooKeeper', { skip: 'Apache ZooKeeper (Debian zookeeper) is not installed' }, () => {});
}

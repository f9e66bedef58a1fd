/**
 * buildConfig against ZooKeeper 3.8.4: QuorumPeerConfig.parseProperties (named keys, the
 * `zookeeper.<key>` system properties, defaults and checks), QuorumPeer.QuorumServer (server.N
 * lines), and the places that read the system properties: FileTxnLog (zookeeper.forceSync),
 * EphemeralType (zookeeper.extendedTypesEnabled), BinaryInputArchive (jute.maxbuffer),
 * ZooKeeperServer.getSnapCount, FourLetterCommands.isEnabled, DigestAuthenticationProvider.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildConfig, clientAddressOfMember, loadConfigFile, parseProperties, ConfigError } from '../../../src/server/config.js';
import type { ServerConfig } from '../../../src/server/config.js';

const BASE = resolve('/srv/paddock/conf');

function cfg(text: string, env: NodeJS.ProcessEnv = {}): ServerConfig {
  return buildConfig(parseProperties(text), { baseDir: BASE, env });
}

function withDataDir(text: string, env: NodeJS.ProcessEnv = {}): ServerConfig {
  return cfg(`dataDir=/var/lib/zk\n${text}`, env);
}

function words(config: ServerConfig): string[] | '*' {
  return config.fourLetterWords === '*' ? '*' : [...config.fourLetterWords].sort();
}

function assertConfigError(text: string, pattern?: RegExp, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(
    () => cfg(text, env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      if (pattern) assert.match(error.message, pattern);
      return true;
    },
    `expected a ConfigError for ${JSON.stringify(text)}`,
  );
}

void describe('buildConfig: defaults', () => {
  void test('a zoo.cfg with only dataDir gets ZooKeeper\'s defaults', () => {
    const config = cfg('dataDir=/var/lib/zk\n');
    assert.equal(config.tickTimeMs, 3000); // ZooKeeperServer.DEFAULT_TICK_TIME
    assert.equal(config.minSessionTimeoutMs, 6000);
    assert.equal(config.maxSessionTimeoutMs, 60000);
    assert.equal(config.maxClientCnxns, 60);
    assert.equal(config.clientPort, 2181);
    assert.equal(config.maxBufferBytes, 0xfffff);
    assert.deepEqual(words(config), ['srvr']);
    assert.equal(config.forceSync, true);
    assert.equal(config.snapCount, 100000);
    assert.equal(config.extendedTypesEnabled, false);
    assert.equal(config.superDigest, undefined);
    assert.equal(config.dataDir, '/var/lib/zk');
    assert.equal(config.dataLogDir, '/var/lib/zk');
    assert.equal(config.autopurgeSnapRetainCount, 3);
    assert.equal(config.autopurgePurgeIntervalHours, 0);
    assert.deepEqual(config.servers, []);
    assert.deepEqual(config.unused, []);
  });

  void test('session timeout bounds default to 2x and 20x the tick', () => {
    const config = withDataDir('tickTime=2000\n');
    assert.equal(config.tickTimeMs, 2000);
    assert.equal(config.minSessionTimeoutMs, 4000);
    assert.equal(config.maxSessionTimeoutMs, 40000);
  });

  void test('explicit bounds win; -1 means "the default"', () => {
    const config = withDataDir('tickTime=2000\nminSessionTimeout=1000\nmaxSessionTimeout=90000\n');
    assert.equal(config.minSessionTimeoutMs, 1000);
    assert.equal(config.maxSessionTimeoutMs, 90000);
    const defaulted = withDataDir('tickTime=2000\nminSessionTimeout=-1\nmaxSessionTimeout=-1\n');
    assert.equal(defaulted.minSessionTimeoutMs, 4000);
    assert.equal(defaulted.maxSessionTimeoutMs, 40000);
  });

  void test('only one bound set: the other still follows the tick', () => {
    const config = withDataDir('tickTime=1000\nmaxSessionTimeout=5000\n');
    assert.equal(config.minSessionTimeoutMs, 2000);
    assert.equal(config.maxSessionTimeoutMs, 5000);
  });

  void test('minSessionTimeout > maxSessionTimeout is an error, also when one comes from the tick', () => {
    assertConfigError('dataDir=/d\nminSessionTimeout=10000\nmaxSessionTimeout=5000\n', /minSessionTimeout/);
    assertConfigError('dataDir=/d\ntickTime=2000\nminSessionTimeout=50000\n');
    assertConfigError('dataDir=/d\ntickTime=2000\nmaxSessionTimeout=3000\n');
  });

  void test('named values are taken as written', () => {
    const config = withDataDir(
      'tickTime=500\ninitLimit=7\nsyncLimit=3\nclientPort=2281\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nautopurge.snapRetainCount=5\nautopurge.purgeInterval=24\n',
    );
    assert.equal(config.tickTimeMs, 500);
    assert.equal(config.initLimit, 7);
    assert.equal(config.syncLimit, 3);
    assert.equal(config.clientPort, 2281);
    assert.equal(config.clientPortAddress, '127.0.0.1');
    assert.equal(config.maxClientCnxns, 0);
    assert.equal(config.autopurgeSnapRetainCount, 5);
    assert.equal(config.autopurgePurgeIntervalHours, 24);
  });

  void test('autopurge.snapRetainCount below 3 is raised to 3 (MIN_SNAP_RETAIN_COUNT)', () => {
    assert.equal(withDataDir('autopurge.snapRetainCount=1\n').autopurgeSnapRetainCount, 3);
    assert.equal(withDataDir('autopurge.snapRetainCount=0\n').autopurgeSnapRetainCount, 3);
  });
});

void describe('buildConfig: directories', () => {
  void test('dataLogDir defaults to dataDir', () => {
    const config = cfg('dataDir=/var/lib/zk\n');
    assert.equal(config.dataLogDir, config.dataDir);
  });

  void test('an explicit dataLogDir is kept apart', () => {
    const config = cfg('dataDir=/var/lib/zk\ndataLogDir=/fast/zk-log\n');
    assert.equal(config.dataDir, '/var/lib/zk');
    assert.equal(config.dataLogDir, '/fast/zk-log');
  });

  void test('relative directories are resolved against baseDir', () => {
    const config = cfg('dataDir=./data\ndataLogDir=../log\n');
    assert.equal(config.dataDir, resolve(BASE, 'data'));
    assert.equal(config.dataLogDir, resolve(BASE, '..', 'log'));
    assert.equal(cfg('dataDir=data\n').dataLogDir, resolve(BASE, 'data'));
  });

  void test('a missing dataDir is an error', () => {
    assertConfigError('tickTime=2000\nclientPort=2181\n', /dataDir/);
    assertConfigError('');
  });
});

void describe('buildConfig: malformed values', () => {
  void test('numbers that Integer.parseInt rejects are errors', () => {
    for (const line of [
      'tickTime=abc',
      'tickTime=',
      'tickTime=2000ms',
      'clientPort=21a81',
      'clientPort=',
      'maxClientCnxns=1.5',
      'initLimit=ten',
      'syncLimit=0x5',
      'minSessionTimeout=4s',
      'maxSessionTimeout=1e5',
      'autopurge.purgeInterval=1h',
      'autopurge.snapRetainCount=three',
      'tickTime=2147483648',
      'clientPort=99999999999',
    ]) {
      assertConfigError(`dataDir=/d\n${line}\n`, undefined);
    }
  });

  void test('a leading + is a number to Integer.parseInt', () => {
    assert.equal(withDataDir('tickTime=+2000\n').tickTimeMs, 2000);
  });

  void test('electionAlg other than 3 is rejected', () => {
    assertConfigError('dataDir=/d\nelectionAlg=1\n', /electionAlg/);
    assert.doesNotThrow(() => withDataDir('electionAlg=3\n'));
  });

  void test('peerType must be observer or participant (any case)', () => {
    assertConfigError('dataDir=/d\npeerType=leader\n');
    assert.doesNotThrow(() => withDataDir('peerType=Observer\n'));
    assert.doesNotThrow(() => withDataDir('peerType=PARTICIPANT\n'));
  });

  void test('boolean keys of QuorumPeerConfig take true or false (any case) and nothing else', () => {
    assertConfigError('dataDir=/d\nstandaloneEnabled=yes\n', /standaloneEnabled/);
    assertConfigError('dataDir=/d\nreconfigEnabled=1\n', /reconfigEnabled/);
    assertConfigError('dataDir=/d\nlocalSessionsEnabled=on\n');
    assert.doesNotThrow(() => withDataDir('standaloneEnabled=TRUE\nreconfigEnabled=False\nsyncEnabled=true\n'));
  });
});

void describe('buildConfig: quorum SASL flags must be consistent (parseProperties checks)', () => {
  void test('requiring SASL without enabling it is an error', () => {
    assertConfigError('dataDir=/d\nquorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\n');
    assertConfigError('dataDir=/d\nquorum.auth.learnerRequireSasl=true\n');
  });

  void test('a server that requires SASL must also require it as a learner', () => {
    assertConfigError('dataDir=/d\nquorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n');
    assert.doesNotThrow(() =>
      withDataDir('quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\n'),
    );
    assert.doesNotThrow(() => withDataDir('quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n'));
  });
});

void describe('buildConfig: four-letter-word whitelist (FourLetterCommands.isEnabled)', () => {
  void test('default is srvr alone', () => {
    assert.deepEqual(words(withDataDir('')), ['srvr']);
  });

  void test('a list is split on commas and trimmed; srvr is always enabled', () => {
    assert.deepEqual(words(withDataDir('4lw.commands.whitelist=ruok, stat ,mntr\n')), ['mntr', 'ruok', 'srvr', 'stat']);
    assert.deepEqual(words(withDataDir('4lw.commands.whitelist=ruok\n')), ['ruok', 'srvr']);
    assert.deepEqual(words(withDataDir('4lw.commands.whitelist=\n')), ['srvr']);
    assert.deepEqual(words(withDataDir('4lw.commands.whitelist=ruok,,\n')), ['ruok', 'srvr']);
  });

  void test('"*" anywhere in the list enables every word', () => {
    assert.equal(words(withDataDir('4lw.commands.whitelist=*\n')), '*');
    assert.equal(words(withDataDir('4lw.commands.whitelist=stat, *\n')), '*');
  });

  void test('the whitelist can come from -Dzookeeper.4lw.commands.whitelist', () => {
    assert.equal(words(withDataDir('', { SERVER_JVMFLAGS: '-Dzookeeper.4lw.commands.whitelist=*' })), '*');
  });

  void test('-Dreadonlymode.enabled=true adds isro', () => {
    assert.deepEqual(words(withDataDir('4lw.commands.whitelist=ruok\n', { SERVER_JVMFLAGS: '-Dreadonlymode.enabled=true' })), [
      'isro',
      'ruok',
      'srvr',
    ]);
    assert.deepEqual(words(withDataDir('', { SERVER_JVMFLAGS: '-Dreadonlymode.enabled=false' })), ['srvr']);
  });
});

void describe('buildConfig: other keys become zookeeper.<key> system properties', () => {
  void test('DigestAuthenticationProvider.superDigest, snapCount, forceSync', () => {
    const config = withDataDir('DigestAuthenticationProvider.superDigest=super:xyz\nsnapCount=5000\nforceSync=no\n');
    assert.equal(config.superDigest, 'super:xyz');
    assert.equal(config.snapCount, 5000);
    assert.equal(config.forceSync, false);
    assert.equal(config.properties.get('zookeeper.DigestAuthenticationProvider.superDigest'), 'super:xyz');
    assert.equal(config.properties.get('zookeeper.snapCount'), '5000');
    assert.equal(config.properties.get('zookeeper.forceSync'), 'no');
  });

  void test('a base64 superDigest keeps its trailing "="', () => {
    const digest = 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=';
    assert.equal(withDataDir(`DigestAuthenticationProvider.superDigest=${digest}\n`).superDigest, digest);
  });

  void test('forceSync is turned off by exactly "no" (FileTxnLog: !getProperty(..., "yes").equals("no"))', () => {
    assert.equal(withDataDir('forceSync=no\n').forceSync, false);
    assert.equal(withDataDir('forceSync=yes\n').forceSync, true);
    assert.equal(withDataDir('forceSync=false\n').forceSync, true);
    assert.equal(withDataDir('forceSync=NO\n').forceSync, true);
  });

  void test('snapCount below 2 is raised to 2 (ZooKeeperServer.getSnapCount)', () => {
    assert.equal(withDataDir('snapCount=1\n').snapCount, 2);
    assert.equal(withDataDir('snapCount=-7\n').snapCount, 2);
    assert.equal(withDataDir('snapCount=2\n').snapCount, 2);
  });

  void test('extendedTypesEnabled follows Boolean.getBoolean: "true" in any case, nothing else', () => {
    assert.equal(withDataDir('extendedTypesEnabled=true\n').extendedTypesEnabled, true);
    assert.equal(withDataDir('extendedTypesEnabled=TRUE\n').extendedTypesEnabled, true);
    assert.equal(withDataDir('extendedTypesEnabled=yes\n').extendedTypesEnabled, false);
    assert.equal(withDataDir('extendedTypesEnabled=false\n').extendedTypesEnabled, false);
  });

  void test('arbitrary unknown keys are kept as properties and reported unused', () => {
    const config = withDataDir('admin.serverPort=9090\nglobalOutstandingLimit=2000\nsomethingNew=1\n');
    assert.equal(config.properties.get('zookeeper.admin.serverPort'), '9090');
    assert.equal(config.properties.get('zookeeper.globalOutstandingLimit'), '2000');
    assert.equal(config.properties.get('zookeeper.somethingNew'), '1');
    for (const key of ['admin.serverPort', 'globalOutstandingLimit', 'somethingNew']) {
      assert.ok(config.unused.some((u) => u === key || u === `zookeeper.${key}`), `${key} missing from unused`);
    }
  });

  void test('named keys are not turned into zookeeper.* properties', () => {
    const config = withDataDir('tickTime=2000\nclientPort=2181\ninitLimit=5\n');
    for (const key of ['dataDir', 'tickTime', 'clientPort', 'initLimit']) {
      assert.equal(config.properties.has(`zookeeper.${key}`), false, key);
    }
  });
});

void describe('buildConfig: JVM flags (SERVER_JVMFLAGS, JVMFLAGS)', () => {
  void test('-Djute.maxbuffer and -Dzookeeper.extendedTypesEnabled', () => {
    const config = withDataDir('', { SERVER_JVMFLAGS: '-Djute.maxbuffer=4194304 -Dzookeeper.extendedTypesEnabled=true' });
    assert.equal(config.maxBufferBytes, 4194304);
    assert.equal(config.extendedTypesEnabled, true);
  });

  void test('flags are found among other JVM options, from either variable', () => {
    const config = withDataDir('', {
      SERVER_JVMFLAGS: '-Xmx1000m -XX:+UseG1GC -Djute.maxbuffer=2097152 -server',
      JVMFLAGS: '-Dzookeeper.snapCount=777 -verbose:gc',
    });
    assert.equal(config.maxBufferBytes, 2097152);
    assert.equal(config.snapCount, 777);
  });

  void test('jute.maxbuffer is read with Integer.getInteger, which decodes hex', () => {
    assert.equal(withDataDir('', { SERVER_JVMFLAGS: '-Djute.maxbuffer=0x400000' }).maxBufferBytes, 0x400000);
    assert.equal(withDataDir('', { SERVER_JVMFLAGS: '-Djute.maxbuffer=#200000' }).maxBufferBytes, 0x200000);
    assert.equal(withDataDir('', { SERVER_JVMFLAGS: '-Djute.maxbuffer=010' }).maxBufferBytes, 8); // octal, as decode reads it
    assert.equal(withDataDir('snapCount=0x10000\n').snapCount, 0x10000);
  });

  void test('-Djava.security.auth.login.config ends up in properties and is not reported', () => {
    const config = withDataDir('', { SERVER_JVMFLAGS: '-Djava.security.auth.login.config=/x/jaas.conf' });
    assert.equal(config.properties.get('java.security.auth.login.config'), '/x/jaas.conf');
    assert.ok(!config.unused.some((u) => u.includes('java.security')));
  });

  void test('superDigest from a -D flag keeps its "=" padding', () => {
    const config = withDataDir('', {
      SERVER_JVMFLAGS: '-Dzookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
    });
    assert.equal(config.superDigest, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  void test('zkServer.sh runs java with "$SERVER_JVMFLAGS $JVMFLAGS": JVMFLAGS wins a tie', () => {
    const config = withDataDir('', { SERVER_JVMFLAGS: '-Djute.maxbuffer=1000', JVMFLAGS: '-Djute.maxbuffer=2000' });
    assert.equal(config.maxBufferBytes, 2000);
  });

  void test('a -D flag without a value is the empty string, which is not "true"', () => {
    const config = withDataDir('', { SERVER_JVMFLAGS: '-Dzookeeper.extendedTypesEnabled' });
    assert.equal(config.properties.get('zookeeper.extendedTypesEnabled'), '');
    assert.equal(config.extendedTypesEnabled, false);
  });

  void test('zoo.cfg is applied after the JVM started: its keys override -D flags', () => {
    const config = withDataDir('snapCount=42\n', { SERVER_JVMFLAGS: '-Dzookeeper.snapCount=7' });
    assert.equal(config.snapCount, 42);
  });
});

void describe('buildConfig: server.N lines', () => {
  void test('host:quorumPort:electionPort with optional role and client address', () => {
    const config = withDataDir(
      [
        'server.1=zk1:2888:3888',
        'server.2=zk2:2889:3889:observer',
        'server.3=zk3:2890:3890:participant;2181',
        'server.4=zk4:2891:3891;10.0.0.4:2182',
        'server.5=zk5:2892:3892:observer;0.0.0.0:2183',
      ].join('\n'),
    );
    const [s1, s2, s3, s4, s5] = config.servers.map((s) => ({ ...s }));
    assert.deepEqual(s1, { id: 1, host: 'zk1', quorumPort: 2888, electionPort: 3888, role: 'participant' });
    assert.deepEqual(s2, { id: 2, host: 'zk2', quorumPort: 2889, electionPort: 3889, role: 'observer' });
    // ";2181" alone: ZooKeeper binds the client port on 0.0.0.0; Paddock may leave the host unset.
    const { clientHost: host3, ...rest3 } = s3!;
    assert.deepEqual(rest3, { id: 3, host: 'zk3', quorumPort: 2890, electionPort: 3890, role: 'participant', clientPort: 2181 });
    assert.ok(host3 === undefined || host3 === '0.0.0.0', String(host3));
    assert.deepEqual(s4, { id: 4, host: 'zk4', quorumPort: 2891, electionPort: 3891, role: 'participant', clientHost: '10.0.0.4', clientPort: 2182 });
    assert.deepEqual(s5, { id: 5, host: 'zk5', quorumPort: 2892, electionPort: 3892, role: 'observer', clientHost: '0.0.0.0', clientPort: 2183 });
  });

  void test('servers are ordered by id, numerically', () => {
    const config = withDataDir('server.10=c:1:2\nserver.2=b:1:2\nserver.1=a:1:2\n');
    assert.deepEqual(
      config.servers.map((s) => s.id),
      [1, 2, 10],
    );
  });

  void test('the role is matched case-insensitively, as QuorumServer.getType does', () => {
    const config = withDataDir('server.1=zk1:2888:3888:OBSERVER\nserver.2=zk2:2888:3888:Participant\n');
    assert.deepEqual(
      config.servers.map((s) => s.role),
      ['observer', 'participant'],
    );
  });

  void test('a bracketed IPv6 host (ConfigUtils.getHostAndPort)', () => {
    const config = withDataDir('server.1=[2001:db8::1]:2888:3888:observer;[::1]:2181\n');
    const server = config.servers[0]!;
    assert.equal(server.host, '2001:db8::1');
    assert.equal(server.quorumPort, 2888);
    assert.equal(server.electionPort, 3888);
    assert.equal(server.role, 'observer');
    assert.equal(server.clientHost, '::1');
    assert.equal(server.clientPort, 2181);
  });

  void test('malformed lines are errors', () => {
    for (const line of [
      'server.1=zk1:2888',
      'server.1=zk1',
      'server.1=zk1:x:3888',
      'server.1=zk1:2888:y',
      'server.x=zk1:2888:3888',
      'server.1=zk1:2888:3888:leader',
      'server.1=zk1:2888:3888:observer:extra',
      'server.1=zk1:2888:3888;2181;2182',
      'server.1=zk1:2888:3888;h:2181:9',
      'server.1=zk1:2888:3888;port',
      'server.1=zk1:2888:2888',
      'server.1=[::1:2888:3888',
    ]) {
      assertConfigError(`dataDir=/d\n${line}\n`);
    }
  });
});

void describe('clientAddressOfMember: where an ensemble member listens (QuorumPeerConfig.setupClientPort)', () => {
  const lines = ['server.1=zk1:2888:3888;10.0.0.1:2191', 'server.2=zk2:2888:3888;2192', 'server.3=zk3:2888:3888'];

  void test('the address on its own server line, with 0.0.0.0 for a bare port', () => {
    const config = withDataDir(lines.join('\n'));
    assert.deepEqual(clientAddressOfMember(config, 1), { host: '10.0.0.1', port: 2191 });
    assert.deepEqual(clientAddressOfMember(config, 2), { host: '0.0.0.0', port: 2192 });
  });

  void test('clientPort and clientPortAddress when its line has none (2181 on 0.0.0.0 by default)', () => {
    assert.deepEqual(clientAddressOfMember(withDataDir(lines.join('\n')), 3), { host: '0.0.0.0', port: 2181 });
    const config = withDataDir(['clientPort=2200', 'clientPortAddress=127.0.0.1', ...lines].join('\n'));
    assert.deepEqual(clientAddressOfMember(config, 3), { host: '127.0.0.1', port: 2200 });
  });

  void test('clientPort (and a specific clientPortAddress) must agree with the line', () => {
    assert.deepEqual(clientAddressOfMember(withDataDir(['clientPort=2191', ...lines].join('\n')), 1), { host: '10.0.0.1', port: 2191 });
    assert.deepEqual(clientAddressOfMember(withDataDir(['clientPort=2191', 'clientPortAddress=10.0.0.1', ...lines].join('\n')), 1), { host: '10.0.0.1', port: 2191 });
    assert.throws(() => clientAddressOfMember(withDataDir(['clientPort=2181', ...lines].join('\n')), 1), (e: unknown) => e instanceof ConfigError && /id = 1/.test(e.message));
    assert.throws(() => clientAddressOfMember(withDataDir(['clientPort=2191', 'clientPortAddress=10.0.0.9', ...lines].join('\n')), 1), ConfigError);
  });
});

void describe('buildConfig: a zoo.cfg with every key QuorumPeerConfig accepts', () => {
  const named: Record<string, string> = {
    dataDir: '/var/lib/zookeeper',
    dataLogDir: '/var/lib/zookeeper-log',
    clientPort: '2181',
    localSessionsEnabled: 'true',
    localSessionsUpgradingEnabled: 'true',
    clientPortAddress: '127.0.0.1',
    secureClientPort: '2281',
    secureClientPortAddress: '127.0.0.1',
    observerMasterPort: '2191',
    clientPortListenBacklog: '128',
    tickTime: '2000',
    maxClientCnxns: '100',
    minSessionTimeout: '4000',
    maxSessionTimeout: '40000',
    initLimit: '10',
    syncLimit: '5',
    connectToLearnerMasterLimit: '10',
    electionAlg: '3',
    quorumListenOnAllIPs: 'false',
    peerType: 'participant',
    syncEnabled: 'true',
    'autopurge.snapRetainCount': '3',
    'autopurge.purgeInterval': '1',
    standaloneEnabled: 'true',
    reconfigEnabled: 'false',
    sslQuorum: 'false',
    portUnification: 'false',
    sslQuorumReloadCertFiles: 'false',
    'quorum.auth.enableSasl': 'true',
    'quorum.auth.serverRequireSasl': 'true',
    'quorum.auth.learnerRequireSasl': 'true',
    'quorum.auth.learner.saslLoginContext': 'QuorumLearner',
    'quorum.auth.server.saslLoginContext': 'QuorumServer',
    'quorum.auth.kerberos.servicePrincipal': 'zkquorum/localhost',
    'quorum.cnxn.threads.size': '20',
    'jvm.pause.info-threshold.ms': '1000',
    'jvm.pause.warn-threshold.ms': '10000',
    'jvm.pause.sleep.time.ms': '500',
    'jvm.pause.monitor': 'false',
    'metricsProvider.className': 'org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider',
    'metricsProvider.httpPort': '7000',
    'metricsProvider.exportJvmInfo': 'true',
    'multiAddress.enabled': 'false',
    'multiAddress.reachabilityCheckTimeoutMs': '1000',
    'multiAddress.reachabilityCheckEnabled': 'true',
    oraclePath: '/var/lib/zookeeper/oracle',
  };
  /** Documented zookeeperAdmin.md options that reach the server as zookeeper.* properties. */
  const systemProperties: Record<string, string> = {
    '4lw.commands.whitelist': 'srvr,ruok,mntr',
    snapCount: '50000',
    forceSync: 'yes',
    'DigestAuthenticationProvider.superDigest': 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
    extendedTypesEnabled: 'true',
    preAllocSize: '65536',
    snapSizeLimitInKb: '4194304',
    commitLogCount: '500',
    globalOutstandingLimit: '1000',
    leaderServes: 'yes',
    skipACL: 'no',
    'admin.enableServer': 'false',
    'admin.serverPort': '8080',
    serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
    'digest.enabled': 'true',
    'audit.enable': 'false',
    'snapshot.compression.method': 'gz',
    'znode.container.checkIntervalMs': '60000',
    'ssl.quorum.keyStore.location': '/etc/zk/keystore.jks',
    'authProvider.1': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider',
    requireClientAuthScheme: 'sasl',
    enforceQuota: 'false',
    'enforce.auth.enabled': 'false',
  };
  const servers = ['server.1=zk1:2888:3888', 'server.2=zk2:2888:3888', 'server.3=zk3:2888:3888;2181', 'server.4=zk4:2888:3888:observer'];
  const text = [
    '# generated: every key',
    ...Object.entries(named).map(([k, v]) => `${k}=${v}`),
    ...Object.entries(systemProperties).map(([k, v]) => `${k}=${v}`),
    ...servers,
    'group.1=1:2:3',
    'weight.1=1',
    'weight.2=1',
    'weight.3=1',
  ].join('\n');

  void test('is accepted without throwing, with the values Paddock acts on taken', () => {
    const config = cfg(text);
    assert.equal(config.tickTimeMs, 2000);
    assert.equal(config.dataDir, '/var/lib/zookeeper');
    assert.equal(config.dataLogDir, '/var/lib/zookeeper-log');
    assert.equal(config.clientPort, 2181);
    assert.equal(config.clientPortAddress, '127.0.0.1');
    assert.equal(config.maxClientCnxns, 100);
    assert.equal(config.minSessionTimeoutMs, 4000);
    assert.equal(config.maxSessionTimeoutMs, 40000);
    assert.equal(config.initLimit, 10);
    assert.equal(config.syncLimit, 5);
    assert.equal(config.snapCount, 50000);
    assert.equal(config.forceSync, true);
    assert.equal(config.extendedTypesEnabled, true);
    assert.equal(config.superDigest, 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
    assert.deepEqual(words(config), ['mntr', 'ruok', 'srvr']);
    assert.equal(config.autopurgePurgeIntervalHours, 1);
    assert.deepEqual(
      config.servers.map((s) => [s.id, s.role]),
      [
        [1, 'participant'],
        [2, 'participant'],
        [3, 'participant'],
        [4, 'observer'],
      ],
    );
  });

  void test('every key Paddock does not act on is listed in unused; the ones it does are not', () => {
    const config = cfg(text);
    const listed = (key: string): boolean => config.unused.some((u) => u === key || u === `zookeeper.${key}`);
    // Keys that only mean something to a JVM or to ZooKeeper's own classes: never acted on.
    const notActedOn = [
      'electionAlg',
      'quorum.cnxn.threads.size',
      'jvm.pause.info-threshold.ms',
      'jvm.pause.warn-threshold.ms',
      'jvm.pause.sleep.time.ms',
      'jvm.pause.monitor',
      'metricsProvider.className',
      'serverCnxnFactory',
      'group.1',
      'weight.1',
    ];
    for (const key of notActedOn) assert.ok(listed(key), `${key} should be listed in unused: ${config.unused.join(', ')}`);
    // Nothing is reported that was not in the file, and nothing twice.
    const given = new Set(text.split('\n').map((line) => line.split('=')[0]!));
    for (const u of config.unused) {
      assert.ok(given.has(u) || given.has(u.replace(/^zookeeper\./, '')), `${u} is listed but was not in the file`);
    }
    assert.equal(new Set(config.unused).size, config.unused.length);
    // Keys Paddock acts on are not listed: the SASL provider turns SASL on.
    assert.equal(listed('authProvider.1'), false);
    assert.deepEqual(config.saslUsers, new Map(), 'SASL is on; without a JAAS file no login can succeed');
    assert.match(config.warnings.join('\n'), /names no JAAS file/);
    const actedOn = [
      'dataDir',
      'dataLogDir',
      'clientPort',
      'clientPortAddress',
      'tickTime',
      'maxClientCnxns',
      'minSessionTimeout',
      'maxSessionTimeout',
      'initLimit',
      'syncLimit',
      'autopurge.snapRetainCount',
      'autopurge.purgeInterval',
      '4lw.commands.whitelist',
      'snapCount',
      'forceSync',
      'DigestAuthenticationProvider.superDigest',
      'extendedTypesEnabled',
    ];
    for (const key of actedOn) assert.ok(!listed(key), `${key} is used and should not be listed in unused`);
    assert.ok(!config.unused.some((u) => u.startsWith('server.')));
  });

  void test('metricsProvider.* keys configure the provider; they are not zookeeper.* properties', () => {
    const config = cfg(text);
    assert.equal(config.properties.has('zookeeper.metricsProvider.httpPort'), false);
    assert.equal(config.properties.has('zookeeper.metricsProvider.className'), false);
  });
});

void describe('loadConfigFile', () => {
  void test('reads a zoo.cfg, resolving relative directories against the file\'s own directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paddock-config-'));
    try {
      mkdirSync(join(dir, 'conf'));
      const file = join(dir, 'conf', 'zoo.cfg');
      writeFileSync(file, '# test\r\ntickTime=1000\r\ndataDir=../data\r\n4lw.commands.whitelist=ruok\r\n');
      const config = loadConfigFile(file, { JVMFLAGS: '-Djute.maxbuffer=1048576' });
      assert.equal(config.tickTimeMs, 1000);
      assert.equal(config.dataDir, join(dir, 'data'));
      assert.equal(config.dataLogDir, join(dir, 'data'));
      assert.equal(config.maxBufferBytes, 1048576);
      assert.deepEqual(words(config), ['ruok', 'srvr']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The text of /zookeeper/config for a zoo.cfg. Every expected text here is ZooKeeper 3.8's
 * observed output (Debian 3.8.0-11+deb12u2, OpenJDK 17): the ensembles' texts were read with
 * `get -s /zookeeper/config` (zkCli.sh) and kazoo from every member of real 3- and 4-member
 * ensembles started from these very server lines; the other shapes are what ZooKeeper's
 * QuorumPeerConfig.parse and QuorumMaj print for the same lines, and the host forms what
 * Java's InetSocketAddress.getHostString gives, which ZooKeeper prints.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, parseProperties } from '../../../src/server/config.js';
import { STATIC_CONFIG_VERSION, javaHostString, quorumConfigText } from '../../../src/server/quorum-config.js';

function textFor(zooCfg: string): string {
  const config = buildConfig(parseProperties(`dataDir=/var/lib/zookeeper\n${zooCfg}`), { baseDir: '/', env: {} });
  return quorumConfigText(config.servers, STATIC_CONFIG_VERSION);
}

void describe('/zookeeper/config text (ZooKeeper 3.8 observed)', () => {
  test('(a) host:quorumPort:electionPort with a separate clientPort: no client address, role written', () => {
    const text = textFor(`clientPort=39399
clientPortAddress=127.0.0.1
server.1=127.0.0.1:59761:54131
server.2=127.0.0.1:58469:33827
server.3=127.0.0.1:45687:55961
`);
    assert.equal(
      text,
      'server.1=127.0.0.1:59761:54131:participant\nserver.2=127.0.0.1:58469:33827:participant\nserver.3=127.0.0.1:45687:55961:participant\nversion=0',
    );
    // ZooKeeper's dataLength for it: the text as UTF-8, no trailing newline.
    assert.equal(Buffer.byteLength(text), 138);
  });

  test('(b) participant with the client address on the line', () => {
    const text = textFor(`server.1=127.0.0.1:46785:37335:participant;127.0.0.1:47913
server.2=127.0.0.1:60245:44527:participant;127.0.0.1:37717
server.3=127.0.0.1:59221:59253:participant;127.0.0.1:54465
`);
    assert.equal(
      text,
      'server.1=127.0.0.1:46785:37335:participant;127.0.0.1:47913\nserver.2=127.0.0.1:60245:44527:participant;127.0.0.1:37717\n' +
        'server.3=127.0.0.1:59221:59253:participant;127.0.0.1:54465\nversion=0',
    );
    assert.equal(Buffer.byteLength(text), 186);
  });

  test('(c) three participants of shape (a) and an observer with its client address', () => {
    const text = textFor(`clientPort=34715
clientPortAddress=127.0.0.1
server.1=127.0.0.1:35893:51793
server.2=127.0.0.1:59749:48649
server.3=127.0.0.1:59297:57011
server.4=127.0.0.1:39447:56259:observer;127.0.0.1:40141
`);
    assert.equal(
      text,
      'server.1=127.0.0.1:35893:51793:participant\nserver.2=127.0.0.1:59749:48649:participant\nserver.3=127.0.0.1:59297:57011:participant\n' +
        'server.4=127.0.0.1:39447:56259:observer;127.0.0.1:40141\nversion=0',
    );
    assert.equal(Buffer.byteLength(text), 194);
  });

  test('a bare client port is the wildcard address; clientPort and clientPortAddress add nothing', () => {
    assert.equal(
      textFor('clientPort=2181\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889;2182\n'),
      'server.1=127.0.0.1:2888:3888:participant\nserver.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\nversion=0',
    );
    assert.equal(
      textFor('clientPort=2181\nclientPortAddress=127.0.0.1\nserver.1=127.0.0.1:2888:3888;127.0.0.1:2181\nserver.2=127.0.0.1:2889:3889;2182\n'),
      'server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\nserver.2=127.0.0.1:2889:3889:participant;0.0.0.0:2182\nversion=0',
    );
  });

  test('hostnames as written, roles in lower case, IPv6 literals in Java\'s long form', () => {
    assert.equal(
      textFor('server.1=localhost:2888:3888:PARTICIPANT;localhost:2181\nserver.2=LocalHost:2889:3889:Observer;0.0.0.0:2182\n'),
      'server.1=localhost:2888:3888:participant;localhost:2181\nserver.2=LocalHost:2889:3889:observer;0.0.0.0:2182\nversion=0',
    );
    assert.equal(
      textFor('server.1=[::1]:2888:3888;[::1]:2181\nserver.2=[0:0:0:0:0:0:0:1]:2889:3889:participant;2182\n'),
      'server.1=[0:0:0:0:0:0:0:1]:2888:3888:participant;[0:0:0:0:0:0:0:1]:2181\n' +
        'server.2=[0:0:0:0:0:0:0:1]:2889:3889:participant;0.0.0.0:2182\nversion=0',
    );
    assert.equal(
      textFor('server.1=zk1.example.invalid:2888:3888;zk1.example.invalid:2181\nserver.2=10.0.0.2:2889:3889;10.0.0.2:2182\n'),
      'server.1=zk1.example.invalid:2888:3888:participant;zk1.example.invalid:2181\nserver.2=10.0.0.2:2889:3889:participant;10.0.0.2:2182\nversion=0',
    );
  });

  test('lines in the order of ZooKeeper\'s HashMap of members, not by id', () => {
    const line = (id: number, port: number): string => `server.${id}=127.0.0.1:${port}:${port + 1000}`;
    assert.equal(
      textFor([line(10, 2888), line(20, 2889), line(30, 2890)].join('\n')),
      'server.20=127.0.0.1:2889:3889:participant\nserver.10=127.0.0.1:2888:3888:participant\nserver.30=127.0.0.1:2890:3890:participant\nversion=0',
    );
    assert.equal(
      textFor([line(101, 2888), line(102, 2889), line(103, 2890)].join('\n')),
      'server.101=127.0.0.1:2888:3888:participant\nserver.102=127.0.0.1:2889:3889:participant\nserver.103=127.0.0.1:2890:3890:participant\nversion=0',
    );
    // Thirteen or more members: the map has grown to 32 buckets.
    const ids = Array.from({ length: 14 }, (_, i) => (i + 1) * 3);
    const text = textFor(ids.map((id, i) => `server.${id}=127.0.0.1:${3001 + i}:${4001 + i}`).join('\n'));
    assert.deepEqual(
      text.split('\n').map((l) => l.split('=')[0]),
      [33, 3, 36, 6, 39, 9, 42, 12, 15, 18, 21, 24, 27, 30].map((id) => `server.${id}`).concat('version'),
    );
  });

  test('the version is printed in hex', () => {
    const config = buildConfig(parseProperties('dataDir=/d\nserver.1=h:1:2\nserver.2=h:3:4\n'), { baseDir: '/', env: {} });
    assert.equal(quorumConfigText(config.servers, 0x100000000n).split('\n').at(-1), 'version=100000000');
  });

  test('host forms as Java prints them', () => {
    const cases: Array<[string, string]> = [
      ['127.0.0.1', '127.0.0.1'],
      ['01.2.3.4', '1.2.3.4'],
      ['127.1', '127.0.0.1'],
      ['10.1.2', '10.1.0.2'],
      ['1.2.65535', '1.2.255.255'],
      ['4294967295', '255.255.255.255'],
      ['0', '0.0.0.0'],
      // not IPv4 literals to Java: hostnames, printed as written
      ['.1', '.1'],
      ['1.', '1.'],
      ['1..2', '1..2'],
      ['256.1.1.1', '256.1.1.1'],
      ['1.2.65536', '1.2.65536'],
      ['4294967296', '4294967296'],
      ['0x7f.0.0.1', '0x7f.0.0.1'],
      ['1.2.3.4.5', '1.2.3.4.5'],
      ['000000000000127.0.0.1', '000000000000127.0.0.1'],
      ['Zk-1.Example.COM', 'Zk-1.Example.COM'],
      ['::1', '[0:0:0:0:0:0:0:1]'],
      ['::', '[0:0:0:0:0:0:0:0]'],
      ['1::', '[1:0:0:0:0:0:0:0]'],
      ['2001:0DB8::0001', '[2001:db8:0:0:0:0:0:1]'],
      ['1:2:3:4:5:6:7:8', '[1:2:3:4:5:6:7:8]'],
      ['::1.2.3.4', '[0:0:0:0:0:0:102:304]'],
      ['::ffff:7f00:1', '127.0.0.1'],
      ['::ffff:127.0.0.1', '127.0.0.1'],
      ['0:0:0:0:0:ffff:a00:1', '10.0.0.1'],
      ['fe80::1%1', '[fe80:0:0:0:0:0:0:1%1]'],
      ['fe80::1%lo', '[fe80::1%lo]'],
    ];
    for (const [host, printed] of cases) assert.equal(javaHostString(host), printed, host);
  });
});

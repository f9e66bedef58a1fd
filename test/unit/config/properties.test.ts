/**
 * parseProperties: zoo.cfg is read by java.util.Properties.load (QuorumPeerConfig.parse), and
 * QuorumPeerConfig.parseProperties trims every key and value.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseProperties } from '../../../src/server/config.js';

const parse = (text: string): Record<string, string> => Object.fromEntries(parseProperties(text));

void describe('parseProperties: java.util.Properties syntax', () => {
  void test('key=value, key: value, key value, with whitespace around the separator', () => {
    assert.deepEqual(
      parse('tickTime=2000\ndataDir: /var/zk\nclientPort 2181\n  initLimit   =   10  \nsyncLimit:5\nmaxClientCnxns\t\t100\n'),
      { tickTime: '2000', dataDir: '/var/zk', clientPort: '2181', initLimit: '10', syncLimit: '5', maxClientCnxns: '100' },
    );
  });

  void test('# and ! start comments, also after leading whitespace; blank lines are skipped', () => {
    assert.deepEqual(parse('# a comment\n! another\n   # indented\n\t! tabbed\n\n   \nkey=value\n'), { key: 'value' });
  });

  void test('a # later in the line is part of the value, not a comment', () => {
    assert.deepEqual(parse('key=a # b\n'), { key: 'a # b' });
  });

  void test('only the first separator splits: later = and : belong to the value', () => {
    assert.deepEqual(parse('superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\nurl: http://h:80/x\nk = =v\n'), {
      superDigest: 'super:D/InIHSb7yEEbrWz8b9l71RjZJU=',
      url: 'http://h:80/x',
      k: '=v',
    });
  });

  void test('whitespace then a separator counts as one separator ("key = value", "key : value")', () => {
    assert.deepEqual(parse('a = 1\nb : 2\nc   3\n'), { a: '1', b: '2', c: '3' });
  });

  void test('a key with no value, or with a separator and nothing after, maps to ""', () => {
    assert.deepEqual(parse('lonely\nempty=\ncolon:\n'), { lonely: '', empty: '', colon: '' });
  });

  void test('CRLF and lone CR line endings', () => {
    assert.deepEqual(parse('a=1\r\nb=2\rc=3\r\n'), { a: '1', b: '2', c: '3' });
  });

  void test('a later duplicate key wins', () => {
    assert.deepEqual(parse('tickTime=2000\ntickTime=1000\n'), { tickTime: '1000' });
  });

  void test('a line ending in a backslash continues on the next line (leading whitespace dropped)', () => {
    assert.deepEqual(parse('server.1=zoo1:2888:\\\n        3888\nnext=x\n'), { 'server.1': 'zoo1:2888:3888', next: 'x' });
  });

  void test('an even number of trailing backslashes is an escaped backslash, not a continuation', () => {
    assert.deepEqual(parse('a=x\\\\\nb=y\n'), { a: 'x\\', b: 'y' });
  });

  void test('escapes in values: \\\\, \\t, \\uXXXX, and a backslash before an ordinary character is dropped', () => {
    assert.deepEqual(parse('dir=C:\\\\zk\\\\data\ntab=a\\tb\nu=caf\\u00e9\nplain=\\a\\b\\c\n'), {
      dir: 'C:\\zk\\data',
      tab: 'a\tb',
      u: 'café',
      plain: 'abc',
    });
  });

  void test('escaped separators belong to the key', () => {
    assert.deepEqual(parse('a\\=b=c\nx\\:y:z\n'), { 'a=b': 'c', 'x:y': 'z' });
  });

  void test('while the logical line is still empty, a continued line can be a comment (Java 9+ LineReader)', () => {
    assert.deepEqual(parse('\\\n# not a key\nkey=value\n'), { key: 'value' });
    assert.deepEqual(parse('a=\\\n#b\n'), { a: '#b' }); // not empty: the # is data
  });

  void test('a comment line ending in a backslash does not swallow the next line', () => {
    assert.deepEqual(parse('# comment \\\nkey=value\n'), { key: 'value' });
  });
});

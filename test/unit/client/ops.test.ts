/** Every operation of the client against an in-process Paddock server. */
import { startInProcess } from '../../support/paddock.js';
import { defineOpsSuite } from './ops-suite.js';

defineOpsSuite({
  name: 'Paddock',
  start: () => startInProcess(),
});

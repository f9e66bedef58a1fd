export { FOUR_LETTER_WORDS, runFourLetterWord, VERSION_STRING, ZOOKEEPER_VERSION, PADDOCK_VERSION, hex } from './fourletter.js';
export type { ServerView, ClientView, FourLetterActions } from './fourletter.js';

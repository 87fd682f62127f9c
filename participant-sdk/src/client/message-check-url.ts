import { DEFAULT_CALLBACK_PREFIX } from '@dtx/protocol';
import type { RefOptions } from './action-ref.js';

/** Where the participant plugin serves a message producer's check-back, under its prefix. */
export const MESSAGE_CHECK_PATH = '/_msg/check';

/** The check URL of a producer whose plugin is served at `baseUrl` (with `prefix`, default `/dtx`). */
export function messageCheckUrl(baseUrl: string, opts: RefOptions = {}): string {
  return `${baseUrl.replace(/\/+$/, '')}${opts.prefix ?? DEFAULT_CALLBACK_PREFIX}${MESSAGE_CHECK_PATH}`;
}

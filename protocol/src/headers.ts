/** Header names of participant callbacks (PROTOCOL.md "Participant callbacks"). */
export const HEADER_XID = 'dtx-xid';
export const HEADER_BRANCH_ID = 'dtx-branch-id';
export const HEADER_PHASE = 'dtx-phase';
export const HEADER_ATTEMPT = 'dtx-attempt';
export const HEADER_SIGNATURE = 'dtx-signature';

/** The SDK serves each action at `POST <prefix>/<action>/<phase>`. */
export const DEFAULT_CALLBACK_PREFIX = '/dtx';

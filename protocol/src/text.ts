/**
 * Text as every log store keeps it: PostgreSQL's text cannot hold U+0000, so it becomes
 * U+FFFD. The coordinator stores participants' words (errors, refusals) this way and
 * refuses U+0000 in a client's own fields; the SDK cleans what it relays (a rollback
 * reason taken from an error) before sending it.
 */
export const storableText = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text);

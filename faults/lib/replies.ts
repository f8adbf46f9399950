/**
 * The line servers' reply lines by kind, as the figures count them.
 *
 * @module
 */

/** A reply line's kind. */
export type ReplyKind =
  | "welcome"
  | "sum"
  | "product"
  | "switch"
  | "not-integers"
  | "too-long"
  | "too-large"
  | "not-utf8"
  | "echoed"
  | "closed"
  | "other";

const KINDS: [RegExp, ReplyKind][] = [
  [/^<welcome: starting in sum mode>\n$/, "welcome"],
  [/^Sum of input numbers: '-?\d+'\r\n$/, "sum"],
  [/^Product of input numbers: '-?\d+'\r\n$/, "product"],
  [/^<switching to (sum|product) mode>\r\n$/, "switch"],
  [/^ERROR\. Enter only integers separated by commas\n$/, "not-integers"],
  [/^ERROR\. Line too long \(more than \d+ bytes\)\r\n$/, "too-long"],
  [/^ERROR\. Result too large \(more than \d+ digits\)\r\n$/, "too-large"],
  [/^ERROR\. Input is not valid UTF-8\r\n$/, "not-utf8"],
  [/^Echoed: .*\r\n$/s, "echoed"],
  [/^connection closed\r\n$/, "closed"],
];

/** The kind of `line` (with its `\n`); `other` for anything the servers should never send. */
export function replyKind(line: string): ReplyKind {
  for (const [pattern, kind] of KINDS) if (pattern.test(line)) return kind;
  return "other";
}

// Input that a schema's type and length let through but that should not get in: control characters (NUL among
// them) and bidirectional overrides, which make text display as something other than what it is; paths longer than
// a file system takes; host names with anything but letters, digits, dots, dashes and colons. Shared by the forms
// of every page.
import path from 'node:path';

import { z } from 'zod';

/** C0 and C1 control characters, DEL, and the bidirectional embeddings, overrides and isolates. */
const UNSAFE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

export const UNSAFE_MESSAGE = 'No control characters or right-to-left overrides';

export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE.test(text);
}

/** Text to keep and show: trimmed, at most `max` characters, no control characters or overrides. */
export function safeText(max: number) {
  return z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .refine((s) => !hasUnsafeCharacters(s), UNSAFE_MESSAGE);
}

/** The longest path Linux takes (PATH_MAX), in bytes. */
const PATH_MAX = 4096;

/** An absolute path on a machine: at most PATH_MAX bytes, no control characters or overrides. */
export const absolutePath = z
  .string()
  .trim()
  .min(1, 'Give the path to protect')
  .refine((p) => path.isAbsolute(p), 'Give an absolute path, starting with /')
  .refine((p) => Buffer.byteLength(p) <= PATH_MAX, `At most ${PATH_MAX} bytes`)
  .refine((p) => !hasUnsafeCharacters(p), UNSAFE_MESSAGE);

/** Exclude patterns, one per line: at most 200, each at most 1024 characters, none with control characters. */
export const excludePatterns = z
  .string()
  .max(20_000)
  .default('')
  .refine((text) => text.split('\n').filter((l) => l.trim()).length <= 200, 'At most 200 patterns')
  .refine((text) => text.split('\n').every((l) => l.length <= 1024), 'A pattern is at most 1024 characters')
  .refine((text) => !hasUnsafeCharacters(text.replace(/\r?\n/g, '')), UNSAFE_MESSAGE);

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A host name (letters, digits, dashes, dots), an IPv4 address or an IPv6 address (bare or in brackets). */
export function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  if (/^\[?[0-9a-f:.]+\]?$/i.test(host) && host.includes(':'))
    return URL.canParse(`http://[${host.replace(/^\[|\]$/g, '')}]/`);
  return host.split('.').every((label) => LABEL.test(label));
}

export const hostName = z
  .string()
  .trim()
  .min(1, 'The host the service listens on')
  .max(253)
  .refine(isHostName, 'A host name or an IP address, for example 10.0.0.5');

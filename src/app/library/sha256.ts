/** A file's published SHA-256 as the user types it: checked in the page before any download starts. */

/** Why a typed SHA-256 is not one; undefined when it is fine (or empty: the field is optional). */
export function sha256Problem(raw: string): string | undefined {
  const value = raw.trim();
  if (!value || /^[0-9a-f]{64}$/i.test(value)) return undefined;
  const found = /[^0-9a-f]/i.exec(value);
  const what = found ? `"${found[0]}" is not a hexadecimal digit` : `this one has ${value.length}`;
  return `A SHA-256 is 64 hexadecimal digits (0–9, a–f); ${what}. Paste it as published, or leave the field empty.`;
}

/** The SHA-256 to send: trimmed and lower-case; '' when none was given. Call sha256Problem first. */
export const normalSha256 = (raw: string): string => raw.trim().toLowerCase();

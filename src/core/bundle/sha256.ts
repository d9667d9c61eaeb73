/** SHA-256 through WebCrypto: Node ≥ 20's global `crypto`, browsers and workers alike. */

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto refuses views of a SharedArrayBuffer; copy those (shards never are, in practice).
  const data = bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

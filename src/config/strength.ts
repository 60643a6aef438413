/**
 * Rough strength of a secret in bits: its length times the bits of the alphabet it
 * actually uses. "kkkk…" has none; 64 hex characters have 256.
 */
export function secretBits(secret: string): number {
  return secret.length * Math.log2(Math.max(1, new Set(secret).size));
}

// DPoP (RFC 9449) proofs at the broker's own resources (the admin API, a mini program's
// phone number). oidc-provider checks the proofs sent to its endpoints (token, userinfo,
// introspection); these routes are the broker's, so the same checks are made here, as
// RFC 9449 4.3 lists them, with the algorithms discovery offers and oidc-provider's window.

import { hash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import type { AsymmetricSigningAlgorithm } from 'oidc-provider';

/** The proof algorithms (discovery's dpop_signing_alg_values_supported): asymmetric only (4.2). */
export const DPOP_ALGS: readonly AsymmetricSigningAlgorithm[] = ['ES256', 'Ed25519', 'EdDSA'];

/** How far a proof's `iat` may be from now, either way: oidc-provider's window at its own endpoints. */
export const PROOF_WINDOW_S = 300;

/** A proof that does not hold (RFC 9449 7.1: `invalid_dpop_proof`); the message is for the log. */
export class DpopProofError extends Error {
  readonly code = 'invalid_dpop_proof';
}

/** A valid proof: the thumbprint of its key (RFC 7638) and its id, for the replay check. */
export interface Proof {
  readonly thumbprint: string;
  readonly jti: string;
}

/** The request a proof must be for: its method and URL (no query), and the access token it comes with. */
export interface ProvenRequest {
  readonly method: string;
  readonly url: string;
  readonly accessToken: string;
}

/** RFC 9449 4.3 steps 2–6: a JWT of type dpop+jwt, signed with an asymmetric algorithm by the public key in its header. */
async function verified(proof: string) {
  try {
    return await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGS] });
  } catch (error) {
    throw new DpopProofError(`not a valid DPoP proof: ${(error as Error).message}`);
  }
}

/** 4.3 step 9: `htu` is the request's URL, compared without its query and fragment. */
function sameUrl(htu: unknown, url: string): boolean {
  const said = typeof htu === 'string' ? URL.parse(htu) : null;
  if (!said) return false;
  said.search = '';
  said.hash = '';
  return said.href === URL.parse(url)?.href;
}

/**
 * The proof `proof` (the DPoP header) for `request`, checked: RFC 9449 4.3 (its form,
 * signature, `htm`, `htu`, `iat` within the window, no `nonce`, which the broker never
 * asks for) and 7.1 (`ath`, the hash of the access token). Throws DpopProofError.
 */
export async function verifyProof(proof: string, request: ProvenRequest, nowS = Math.floor(Date.now() / 1000)): Promise<Proof> {
  if (proof === '') throw new DpopProofError('no DPoP proof');
  const { payload, protectedHeader } = await verified(proof);
  const { jti, htm, htu, iat, ath, nonce } = payload as Record<string, unknown>;
  if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw new DpopProofError('the proof has no jti');
  if (htm !== request.method) throw new DpopProofError('the proof is for another method (htm)');
  if (!sameUrl(htu, request.url)) throw new DpopProofError('the proof is for another URL (htu)');
  if (typeof iat !== 'number' || Math.abs(nowS - iat) > PROOF_WINDOW_S) throw new DpopProofError('the proof is not recent (iat)');
  if (nonce !== undefined) throw new DpopProofError('the broker gives no DPoP nonces');
  if (ath !== hash('sha256', request.accessToken, 'base64url')) throw new DpopProofError('the proof is for another access token (ath)');
  return { thumbprint: await calculateJwkThumbprint(protectedHeader.jwk as JWK), jti };
}

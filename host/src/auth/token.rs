//! Login tokens and CSRF tokens, both HMAC-SHA256 with the tenant's secret.
//!
//! A login token is `UID.EXPIRY.NONCE.SIGNATURE`: the user id, the expiry in
//! Unix seconds, 16 random bytes (base64url) and the HMAC of
//! `kinesis-token-v1:UID.EXPIRY.NONCE` (base64url). Tokens carry no role: the
//! role is read from the database on every request, so a change takes
//! effect at once. A CSRF token is the HMAC of `kinesis-csrf-v1:` followed
//! by the login token, so only someone who can read a page of the session
//! can send it. Signatures are compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const TOKEN_CONTEXT: &[u8] = b"kinesis-token-v1:";
const CSRF_CONTEXT: &[u8] = b"kinesis-csrf-v1:";

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not of the form `UID.EXPIRY.NONCE.SIGNATURE`.
    #[error("the token is malformed; sign in again with POST /user/login")]
    Malformed,
    /// Not signed by this server (or signed with a secret since replaced).
    #[error("the token was not issued by this server (or the server's secret changed); sign in again")]
    BadSignature,
    /// Past its expiry.
    #[error("the token expired at {0}; sign in again")]
    Expired(DateTime<Utc>),
}

/// A token for user `uid`, valid until `expires_at`.
pub fn issue(secret: &[u8], uid: u64, expires_at: DateTime<Utc>) -> String {
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    let claims = format!("{uid}.{}.{}", expires_at.timestamp(), URL_SAFE_NO_PAD.encode(nonce));
    let signature = URL_SAFE_NO_PAD.encode(sign(secret, TOKEN_CONTEXT, claims.as_bytes()).finalize().into_bytes());
    format!("{claims}.{signature}")
}

/// The user id of a valid token.
pub fn verify(secret: &[u8], token: &str, now: DateTime<Utc>) -> Result<u64, TokenError> {
    let (claims, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
    sign(secret, TOKEN_CONTEXT, claims.as_bytes()).verify_slice(&signature).map_err(|_| TokenError::BadSignature)?;
    let mut parts = claims.split('.');
    let (Some(uid), Some(expiry), Some(_nonce), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let uid = uid.parse::<u64>().map_err(|_| TokenError::Malformed)?;
    let expiry =
        expiry.parse::<i64>().ok().and_then(|secs| DateTime::from_timestamp(secs, 0)).ok_or(TokenError::Malformed)?;
    if expiry <= now {
        return Err(TokenError::Expired(expiry));
    }
    Ok(uid)
}

/// The CSRF token that goes with the session token `token`.
pub fn csrf(secret: &[u8], token: &str) -> String {
    URL_SAFE_NO_PAD.encode(sign(secret, CSRF_CONTEXT, token.as_bytes()).finalize().into_bytes())
}

/// Whether `candidate` is the CSRF token of `token` (constant time).
pub fn csrf_matches(secret: &[u8], token: &str, candidate: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(candidate.trim())
        .is_ok_and(|bytes| sign(secret, CSRF_CONTEXT, token.as_bytes()).verify_slice(&bytes).is_ok())
}

/// The HMAC-SHA256 of `context` then `message` under `secret`, as bytes:
/// how other secrets (web session ids) are bound to the tenant's secret.
pub fn digest(secret: &[u8], context: &[u8], message: &[u8]) -> [u8; 32] {
    sign(secret, context, message).finalize().into_bytes().into()
}

/// An HMAC over `context` then `message`.
fn sign(secret: &[u8], context: &[u8], message: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(context);
    mac.update(message);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const SECRET: &[u8] = &[42; 32];

    #[test]
    fn a_token_verifies_until_it_expires() {
        let now = Utc::now();
        let token = issue(SECRET, 7, now + Duration::minutes(5));
        assert_eq!(verify(SECRET, &token, now), Ok(7));
        assert!(matches!(verify(SECRET, &token, now + Duration::minutes(6)), Err(TokenError::Expired(_))));
    }

    #[test]
    fn tampering_and_other_secrets_are_refused() {
        let now = Utc::now();
        let token = issue(SECRET, 7, now + Duration::minutes(5));
        assert_eq!(verify(&[1; 32], &token, now), Err(TokenError::BadSignature));
        let forged = token.replacen("7.", "1.", 1);
        assert_eq!(verify(SECRET, &forged, now), Err(TokenError::BadSignature));
        assert_eq!(verify(SECRET, "nonsense", now), Err(TokenError::Malformed));
        assert_eq!(verify(SECRET, "", now), Err(TokenError::Malformed));
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let now = Utc::now();
        let a = issue(SECRET, 1, now + Duration::minutes(5));
        let b = issue(SECRET, 1, now + Duration::minutes(5));
        assert!(csrf_matches(SECRET, &a, &csrf(SECRET, &a)));
        assert!(!csrf_matches(SECRET, &a, &csrf(SECRET, &b)));
        assert!(!csrf_matches(SECRET, &a, "not base64!"));
    }
}

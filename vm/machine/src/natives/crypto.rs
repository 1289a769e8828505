//! `(chenilles crypto)`: blake3 hashing and ed25519 signatures over bytevectors, for contracts
//! (blake3 and ed25519-dalek do the work). Generating a key pair draws from the operating system's
//! generator, so in a durable process it is an effect: journaled, never repeated once committed.
//! `stdlib-scm/crypto.scm` adds the Scheme side (signing data rather than bytes).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::effects::EffectResult;
use crate::heap::Object;
use crate::natives::Entries;
use crate::runtime::Runtime;
use crate::throw::{NativeResult, Throw};
use crate::value::Value;

pub const NATIVES: Entries = &[
    ("blake3", 1, Some(1), |rt, a| {
        let digest = blake3::hash(bytes_arg(rt, "blake3", a[0])?);
        Ok(bytevector(rt, digest.as_bytes()))
    }),
    ("ed25519-generate-key", 0, Some(0), generate_key),
    ("ed25519-public-key", 1, Some(1), |rt, a| {
        let key = secret_arg(rt, "ed25519-public-key", a[0])?;
        Ok(bytevector(rt, key.verifying_key().as_bytes()))
    }),
    ("ed25519-sign", 2, Some(2), |rt, a| {
        let key = secret_arg(rt, "ed25519-sign", a[0])?;
        let signature = key.sign(bytes_arg(rt, "ed25519-sign", a[1])?);
        Ok(bytevector(rt, &signature.to_bytes()))
    }),
    ("ed25519-verify", 3, Some(3), verify),
];

fn bytes_arg<'a>(rt: &'a Runtime, who: &str, v: Value) -> Result<&'a [u8], Throw> {
    match rt.heap.get(v) {
        Some(Object::Bytevector(bytes)) => Ok(bytes),
        _ => Err(rt.type_error(who, "a bytevector", v)),
    }
}

/// A bytevector of exactly `N` bytes.
fn sized_arg<const N: usize>(rt: &Runtime, who: &str, what: &str, v: Value) -> Result<[u8; N], Throw> {
    let bytes = bytes_arg(rt, who, v)?;
    bytes.try_into().map_err(|_| Throw::error(format!("{who}: {what} must be {N} bytes, not {}", bytes.len()), vec![v]))
}

fn secret_arg(rt: &Runtime, who: &str, v: Value) -> Result<SigningKey, Throw> {
    Ok(SigningKey::from_bytes(&sized_arg::<32>(rt, who, "a secret key", v)?))
}

fn bytevector(rt: &mut Runtime, bytes: &[u8]) -> Value {
    rt.heap.alloc(Object::Bytevector(bytes.into()))
}

/// A new secret key: 32 bytes from the operating system's generator.
fn generate_key(rt: &mut Runtime, _: &[Value]) -> NativeResult {
    let secret = rt.effect("ed25519-generate-key", |_| {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| Throw::error(format!("ed25519-generate-key: no randomness available: {e}"), vec![]))?;
        Ok(EffectResult::Secret(secret.to_vec()))
    })?;
    let secret = secret.secret("ed25519-generate-key")?.to_vec();
    Ok(bytevector(rt, &secret))
}

/// `(ed25519-verify public-key message signature)`: whether `signature` is the signature of
/// `message` by the holder of `public-key`. A malformed key or signature is not an error: it simply
/// does not verify (a contract checks signatures that a counterparty sent).
fn verify(rt: &mut Runtime, a: &[Value]) -> NativeResult {
    let message = bytes_arg(rt, "ed25519-verify", a[1])?;
    let key = match rt.heap.get(a[0]) {
        Some(Object::Bytevector(bytes)) => <[u8; 32]>::try_from(&bytes[..]).ok(),
        _ => return Err(rt.type_error("ed25519-verify", "a bytevector", a[0])),
    };
    let signature = match rt.heap.get(a[2]) {
        Some(Object::Bytevector(bytes)) => <[u8; 64]>::try_from(&bytes[..]).ok(),
        _ => return Err(rt.type_error("ed25519-verify", "a bytevector", a[2])),
    };
    let valid = match (key.and_then(|k| VerifyingKey::from_bytes(&k).ok()), signature) {
        (Some(key), Some(signature)) => key.verify_strict(message, &Signature::from_bytes(&signature)).is_ok(),
        _ => false,
    };
    Ok(Value::boolean(valid))
}

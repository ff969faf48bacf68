//! Session tokens: 64 characters of `[A-Za-z0-9]` from a CSPRNG.
//!
//! node uses `Math.random()` (not a CSPRNG) for 55 characters plus a timestamp; both
//! formats are 64 alphanumerics, which is all any version validates.

use crate::validate::TOKEN_LEN;

/// The 62 token symbols.
pub const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The largest multiple of 62 that fits a byte: bytes at or above it are rejected, so every
/// symbol is equally likely (no modulo bias).
const ACCEPT_BELOW: u8 = 248;

/// How many shards a token can name: its first two symbols, base 62 (see
/// [`crate::keys::Layout::sharded`]).
pub const SHARDS_IN_TOKEN: u16 = 62 * 62;

fn symbol_value(b: u8) -> Option<usize> {
    ALPHABET.iter().position(|&s| s == b)
}

/// A token of shard `shard` (< [`SHARDS_IN_TOKEN`]): its first two symbols name the shard,
/// the other 62 are random (370 bits).
pub fn in_shard(token: String, shard: usize) -> String {
    let mut out = String::with_capacity(TOKEN_LEN);
    out.push(char::from(ALPHABET[shard / 62 % 62]));
    out.push(char::from(ALPHABET[shard % 62]));
    out.push_str(&token[2..]);
    out
}

/// The shard a (valid) token names.
pub fn shard_of(token: &str) -> Option<usize> {
    let b = token.as_bytes();
    Some(symbol_value(*b.first()?)? * 62 + symbol_value(*b.get(1)?)?)
}

/// Makes a token from random bytes supplied by `fill`.
pub fn generate<E>(mut fill: impl FnMut(&mut [u8]) -> Result<(), E>) -> Result<String, E> {
    let mut token = String::with_capacity(TOKEN_LEN);
    // 64 symbols need ~66 bytes on average (3% rejected); draw in batches.
    let mut buf = [0u8; 80];
    while token.len() < TOKEN_LEN {
        fill(&mut buf)?;
        for &b in buf.iter().filter(|&&b| b < ACCEPT_BELOW) {
            if token.len() == TOKEN_LEN {
                break;
            }
            token.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    #[test]
    fn tokens_are_64_alphanumerics_and_validate() {
        let mut seed = 1u32;
        let t = generate(|buf| {
            for b in buf {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *b = (seed >> 24) as u8;
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(t.len(), 64);
        assert!(validate::token(&t).is_ok());
    }

    #[test]
    fn rejected_bytes_are_skipped_not_biased() {
        // Only bytes >= 248 at first: the generator must keep drawing.
        let mut calls = 0;
        let t = generate(|buf| {
            calls += 1;
            buf.fill(if calls < 3 { 250 } else { 61 });
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(t, "9".repeat(64));
    }

    #[test]
    fn a_token_names_its_shard() {
        let t = "x".repeat(64);
        for shard in [0, 1, 61, 62, 15, 3843] {
            let marked = in_shard(t.clone(), shard);
            assert_eq!(marked.len(), 64);
            assert!(validate::token(&marked).is_ok());
            assert_eq!(shard_of(&marked), Some(shard));
            assert!(marked.ends_with(&t[2..]));
        }
        assert_eq!(shard_of("AB"), Some(1));
        assert_eq!(shard_of("-B"), None);
    }

    #[test]
    fn alphabet_is_62_distinct_symbols() {
        let mut v = ALPHABET.to_vec();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), 62);
    }
}

//! Standard base64 (RFC 4648 §4) decoding for the `auth` field.
//!
//! Written out rather than pulled in as a dependency: it is a few lines, and
//! errors must stay free of the input (which is a password in disguise).

/// Why input is not base64. Deliberately carries no position or byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NotBase64;

fn sextet(byte: u8) -> Result<u32, NotBase64> {
    match byte {
        b'A'..=b'Z' => Ok(u32::from(byte - b'A')),
        b'a'..=b'z' => Ok(u32::from(byte - b'a') + 26),
        b'0'..=b'9' => Ok(u32::from(byte - b'0') + 52),
        b'+' => Ok(62),
        b'/' => Ok(63),
        _ => Err(NotBase64),
    }
}

/// Decodes standard-alphabet base64. Padding may be present (then it must be
/// right) or left out, since some tools write `auth` unpadded; surrounding
/// whitespace is ignored.
pub(super) fn decode(text: &str) -> Result<Vec<u8>, NotBase64> {
    let text = text.trim().as_bytes();
    let unpadded = match text.iter().position(|&b| b == b'=') {
        Some(at) => {
            let padding = &text[at..];
            let whole = text.len() % 4 == 0 && padding.len() <= 2;
            if !whole || padding.iter().any(|&b| b != b'=') {
                return Err(NotBase64);
            }
            &text[..at]
        }
        None => text,
    };
    // One leftover character encodes only 6 bits: never a whole byte.
    if unpadded.len() % 4 == 1 {
        return Err(NotBase64);
    }
    let mut out = Vec::with_capacity(unpadded.len() / 4 * 3 + 2);
    for chunk in unpadded.chunks(4) {
        let mut bits = 0u32;
        for &byte in chunk {
            bits = (bits << 6) | sextet(byte)?;
        }
        bits <<= 6 * (4 - chunk.len() as u32);
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

/// Encodes `bytes` as padded standard base64, to build test fixtures.
#[cfg(test)]
pub(super) fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut bits = 0u32;
        for (i, &byte) in chunk.iter().enumerate() {
            bits |= u32::from(byte) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((bits >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_padded_unpadded_and_rejects_garbage() {
        let good: &[(&str, &[u8])] = &[
            ("", b""),
            ("dXNlcjpwYXNz", b"user:pass"),
            ("dTpw", b"u:p"),
            ("dTpwMQ==", b"u:p1"),
            ("dTpwMQ", b"u:p1"),
            ("dTpwMTI=", b"u:p12"),
            ("dTpwMTI", b"u:p12"),
            (" dTpw\n", b"u:p"),
            ("+/+/", &[0xfb, 0xff, 0xbf]),
        ];
        for (text, want) in good {
            assert_eq!(decode(text).as_deref(), Ok(*want), "{text:?}");
        }
        let bad = [
            "dTpw!", "d", "dTpwM===", "dTpwMQ=", "dTpw=MQ=", "=", "dT pw", "dTpw-_",
        ];
        for text in bad {
            assert_eq!(decode(text), Err(NotBase64), "{text:?}");
        }
    }

    #[test]
    fn encode_round_trips() {
        for text in ["", "a", "ab", "abc", "user:pa:ss", "ünïcødé:pässwörd"] {
            let encoded = encode(text.as_bytes());
            assert_eq!(decode(&encoded).as_deref(), Ok(text.as_bytes()), "{text}");
        }
        assert_eq!(encode(b"user:pass"), "dXNlcjpwYXNz");
    }
}

//! Base64 for the `auth` field: the standard alphabet, padding optional
//! (some tools write `auth` unpadded), surrounding whitespace ignored. The
//! error carries nothing of the input, which is a password in disguise.

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

const PADDING_OPTIONAL: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why input is not base64. Deliberately carries no position or byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NotBase64;

pub(super) fn decode(text: &str) -> Result<Vec<u8>, NotBase64> {
    PADDING_OPTIONAL.decode(text.trim()).map_err(|_| NotBase64)
}

/// For tests that plant `auth` values.
#[cfg(test)]
pub(super) fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
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
        let bad = ["dTpw!", "d", "dTpwM===", "dTpw=MQ=", "=", "dT pw", "dTpw-_"];
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

//! `cargo fuzz run suppression_comment`: see `fluxgate::fuzzing::suppression_comment`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxgate::fuzzing::suppression_comment(data));

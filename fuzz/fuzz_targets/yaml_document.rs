//! `cargo fuzz run yaml_document`: see `fluxgate::fuzzing::yaml_document`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxgate::fuzzing::yaml_document(data));

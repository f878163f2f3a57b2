//! `cargo fuzz run config`: see `fluxgate::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxgate::fuzzing::config(data));

//! `cargo fuzz run chart_archive`: see `fluxgate::fuzzing::chart_archive`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxgate::fuzzing::chart_archive(data));

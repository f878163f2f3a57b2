//! `cargo fuzz run git_pack`: see `fluxgate::fuzzing::git_pack`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxgate::fuzzing::git_pack(data));

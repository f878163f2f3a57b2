//! `cargo fuzz run image_reference`: see `fluxgate::fuzzing::image_reference`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fluxgate::fuzzing::image_reference(data));

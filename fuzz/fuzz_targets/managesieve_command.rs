#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marque_fuzzing::managesieve_command(data));

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marque_fuzzing::pop3_command(data));

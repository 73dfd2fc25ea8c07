#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| uchbot::fuzzing::callback_data(data));

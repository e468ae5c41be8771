//! The directory import: data·inclusion JSON (arrays or one object) and CSV.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app::fuzzing::data_inclusion(data);
});

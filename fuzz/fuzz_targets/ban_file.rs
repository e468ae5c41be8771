//! `passerelle geocode import-ban`: official BAN département files, plain or gzipped.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app::fuzzing::ban_file(data);
});

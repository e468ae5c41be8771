//! `passerelle qpv import`: ANCT contours (GeoJSON) and the list of QPV (CSV).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app::fuzzing::qpv_files(data);
});

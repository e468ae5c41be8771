//! « Vérification en masse » and table imports: any bytes, as CSV, XLSX or ODS.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app::fuzzing::spreadsheet(data);
});

//! One entry point per reader of outside files, shared by the fuzz targets (`fuzz/`) and by
//! the test that replays their corpora: each must answer any bytes with a value or a French
//! refusal, never a panic, and within the upload bounds.

use domain::Millesime;

use crate::spreadsheet::{LIMITS, read_table};

/// A spreadsheet of the mass check or of an import.
pub fn spreadsheet(data: &[u8]) {
    if let Ok(table) = read_table(data, &LIMITS) {
        assert!(table.rows.len() <= LIMITS.max_rows);
        assert!(table.header.len() <= LIMITS.max_columns);
        assert!(table.rows.iter().all(|r| r.len() <= LIMITS.max_columns));
    }
}

/// QPV contours (GeoJSON) or list (CSV), for both maps.
pub fn qpv_files(data: &[u8]) {
    for millesime in [Millesime::Y2015, Millesime::Y2024] {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = territory::qpv::read_geojson(text, millesime);
        }
        let _ = territory::qpv::read_list_csv(data, millesime);
    }
}

/// A BAN département file.
pub fn ban_file(data: &[u8]) {
    let _ = territory::offline::read_ban_file(data, |_| Ok(()));
}

/// A data·inclusion file, every record checked against the schema.
pub fn data_inclusion(data: &[u8]) {
    if let Ok((records, valid)) = crate::directory_file::check_file(data) {
        assert!(valid <= records);
    }
}

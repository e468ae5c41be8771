use super::*;

fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, c, v) in cells {
        sheet.write_string(*r, *c, *v).expect("cell");
    }
    book.save_to_buffer().expect("xlsx")
}

/// A minimal ODS: the mimetype entry first (stored), then `content.xml`.
fn ods(table: &str) -> Vec<u8> {
    use std::io::Write;
    let mut out = Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("mimetype", stored).expect("mimetype");
        zip.write_all(ODS_MIME).expect("mimetype");
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("content.xml", deflated).expect("content");
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Feuille1">{table}</table:table><table:table table:name="Feuille2"><table:table-row><table:table-cell office:value-type="string"><text:p>ignorée</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#
        )
        .expect("content");
        zip.finish().expect("zip");
    }
    out.into_inner()
}

fn refused(bytes: &[u8]) -> String {
    match read_table(bytes, &LIMITS) {
        Err(Refused(m)) => m,
        Ok(t) => panic!("accepted: {} rows", t.rows.len()),
    }
}

#[test]
fn a_csv_in_windows_1252_with_semicolons_reads_as_its_author_typed_it() {
    let bytes = encoding_rs::WINDOWS_1252
        .encode("nom;voie\nRené;12 rue de l'Église\n\n")
        .0
        .into_owned();
    let table = read_table(&bytes, &LIMITS).expect("read");
    assert_eq!(table.header, ["nom", "voie"]);
    assert_eq!(table.rows, vec![vec!["René", "12 rue de l'Église"]]);
}

#[test]
fn an_xlsx_sheet_comes_back_as_rows_of_text_with_gaps_filled() {
    let table = read_table(
        &xlsx(&[(0, 0, "adresse"), (0, 2, "commune"), (2, 2, "Maubeuge")]),
        &LIMITS,
    )
    .expect("read");
    assert_eq!(table.header, ["adresse", "", "commune"]);
    assert_eq!(table.rows, vec![vec![], vec!["", "", "Maubeuge"]]);
}

#[test]
fn an_ods_sheet_expands_repeated_cells_that_hold_values_and_skips_blank_areas() {
    let table = read_table(
        &ods(concat!(
            r#"<table:table-row><table:table-cell office:value-type="string"><text:p>voie</text:p></table:table-cell>"#,
            r#"<table:table-cell office:value-type="string"><text:p>lon</text:p></table:table-cell></table:table-row>"#,
            r#"<table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="string"><text:p>1<text:s text:c="2"/>rue &amp; place</text:p><text:p>Bât. B</text:p></table:table-cell>"#,
            r#"<table:table-cell office:value-type="float" office:value="3.962"><text:p>3,96</text:p></table:table-cell>"#,
            r#"<table:table-cell table:number-columns-repeated="16382"/></table:table-row>"#,
            r#"<table:table-row table:number-rows-repeated="1048573"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#,
        )),
        &LIMITS,
    )
    .expect("read");
    assert_eq!(table.header, ["voie", "lon"]);
    assert_eq!(
        table.rows,
        vec![vec!["1  rue & place\nBât. B", "3.962"]; 2],
        "the blank million rows and columns cost nothing"
    );
}

#[test]
fn a_sparse_sheet_with_only_a1_and_xfd1048576_is_refused_before_a_cell_is_kept() {
    let bytes = xlsx(&[(0, 0, "adresse"), (1_048_575, 16_383, "x")]);
    assert!(bytes.len() < 8 * 1024, "a tiny file: {} bytes", bytes.len());
    let started = std::time::Instant::now();
    let message = refused(&bytes);
    assert!(message.contains("200 colonnes"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_sheet_past_the_row_limit_is_refused_naming_the_limit() {
    let bytes = xlsx(&[(0, 0, "adresse"), (300_000, 0, "x")]);
    assert!(refused(&bytes).contains("200\u{202f}000 lignes"));
}

#[test]
fn an_ods_whose_repeated_cells_hold_values_past_the_bounds_is_refused() {
    let wide = ods(
        r#"<table:table-row><table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/></table:table-row>"#,
    );
    assert!(refused(&wide).contains("200 colonnes"));
    let tall = ods(
        r#"<table:table-row table:number-rows-repeated="1048576"><table:table-cell office:value-type="float" office:value="1"/></table:table-row>"#,
    );
    assert!(refused(&tall).contains("lignes"));
}

#[test]
fn a_csv_with_a_million_columns_is_refused_at_once() {
    let mut bytes = vec![b';'; 1_000_000];
    bytes.extend_from_slice(b"\n1\n");
    let started = std::time::Instant::now();
    let message = refused(&bytes);
    assert!(
        message.starts_with("Ligne 1 : 1\u{202f}000\u{202f}001 colonnes"),
        "{message}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_csv_row_wider_than_the_header_past_the_limit_is_refused_with_its_line() {
    let mut text = String::from("a;b\n1;2\n");
    text.push_str(&";".repeat(300));
    text.push('\n');
    assert!(refused(text.as_bytes()).starts_with("Ligne 3 :"));
}

#[test]
fn too_many_cells_are_refused_even_within_rows_and_columns() {
    let limits = Limits {
        max_cells: 10,
        ..LIMITS
    };
    let text = "a;b;c\n1;2;3\n4;5;6\n7;8;9\n";
    let Err(Refused(m)) = read_table(text.as_bytes(), &limits) else {
        panic!("accepted")
    };
    assert!(m.contains("10 cellules"), "{m}");
}

#[test]
fn a_zip_entry_that_inflates_to_a_gigabyte_is_refused_quickly() {
    let fixture = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/uploads")
            .join(name);
        std::fs::read(&path).expect("fixture")
    };
    let message = refused(&fixture("bomb-1gib.xlsx"));
    assert!(
        message.contains("se décompresse en plus de 100 Mo"),
        "{message}"
    );
    // Headers that claim 1 000 bytes do not fool the count: the reader notices the lie.
    let message = refused(&fixture("bomb-1gib-lying-sizes.xlsx"));
    assert!(message.starts_with("Classeur XLSX"), "{message}");
}

#[test]
fn an_empty_or_damaged_file_says_so_in_french() {
    assert!(refused(b"").starts_with("Le fichier est vide"));
    assert!(refused(b"PK\x03\x04garbage").contains("illisible"));
}

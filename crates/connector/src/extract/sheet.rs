//! Spreadsheets through calamine: Excel 2007+ (`.xlsx`, `.xlsm`, `.xlsb`) and 97-2003 (`.xls`).
//! Each sheet gives its name, then one line per row with cells separated by tabs.

use calamine::{Data, Reader, Xls, Xlsb, Xlsx};

use super::limits::TextOut;
use super::{Failure, Input, ReadSeek, ole};

pub(crate) fn read(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let head = input.head(8)?;
    if head.starts_with(&ole::MAGIC) {
        if ole::has_stream(input, "EncryptedPackage") {
            return Err(Failure::Encrypted);
        }
        let book = Xls::new(input.open()?).map_err(|e| match e {
            calamine::XlsError::Password => Failure::Encrypted,
            e => Failure::corrupt("not a valid Excel 97-2003 workbook", e),
        })?;
        return sheets(book, out);
    }
    if !head.starts_with(b"PK") {
        return Err(Failure::Corrupt(
            "neither a zip container nor an Excel 97-2003 workbook".to_owned(),
        ));
    }
    let xlsb = {
        let zip = zip::ZipArchive::new(input.open()?)
            .map_err(|e| Failure::corrupt("not a valid zip container", e))?;
        zip.index_for_name("xl/workbook.bin").is_some()
    };
    if xlsb {
        let book = Xlsb::new(input.open()?)
            .map_err(|e| Failure::corrupt("not a valid Excel binary workbook", e))?;
        sheets(book, out)
    } else {
        let book = Xlsx::new(input.open()?)
            .map_err(|e| Failure::corrupt("not a valid Excel workbook", e))?;
        sheets(book, out)
    }
}

fn sheets<'a, R>(mut book: R, out: &mut TextOut) -> Result<(), Failure>
where
    R: Reader<Box<dyn ReadSeek + 'a>>,
    R::Error: std::fmt::Display,
{
    let names = book.sheet_names();
    let many = names.len() > 1;
    for name in names {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| Failure::corrupt(&format!("sheet `{name}`"), e))?;
        if many {
            out.newline();
            out.push(&name);
            out.newline();
        }
        for row in range.rows() {
            for cell in row {
                match cell {
                    Data::Empty => {}
                    Data::String(s) => {
                        out.sep("\t");
                        out.push(s.trim());
                    }
                    other => {
                        out.sep("\t");
                        out.push(&other.to_string());
                    }
                }
            }
            out.newline();
            if out.full() {
                return Ok(());
            }
        }
    }
    Ok(())
}

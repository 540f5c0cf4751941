//! Spreadsheets through calamine: Excel 2007+ (`.xlsx`, `.xlsm`, `.xlsb`) and 97-2003 (`.xls`).
//! Each sheet gives its name, then one line per row with cells separated by tabs.

use calamine::{Data, DataRef, Reader, Xls, Xlsb, Xlsx};

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
        let mut zip = zip::ZipArchive::new(input.open()?)
            .map_err(|e| Failure::corrupt("not a valid zip container", e))?;
        inflates_within_budget(&mut zip, out)?;
        zip.index_for_name("xl/workbook.bin").is_some()
    };
    if xlsb {
        let mut book = Xlsb::new(input.open()?)
            .map_err(|e| Failure::corrupt("not a valid Excel binary workbook", e))?;
        let many = book.sheet_names().len() > 1;
        for name in book.sheet_names() {
            let mut cells = book
                .worksheet_cells_reader(&name)
                .map_err(|e| Failure::corrupt(&format!("sheet `{name}`"), e))?;
            let next = || cells.next_cell().map(|c| c.map(|c| cell(&c)));
            write_cells(&name, many, next, out)?;
        }
        Ok(())
    } else {
        let mut book = Xlsx::new(input.open()?)
            .map_err(|e| Failure::corrupt("not a valid Excel workbook", e))?;
        let many = book.sheet_names().len() > 1;
        for name in book.sheet_names() {
            let mut cells = book
                .worksheet_cells_reader(&name)
                .map_err(|e| Failure::corrupt(&format!("sheet `{name}`"), e))?;
            let next = || cells.next_cell().map(|c| c.map(|c| cell(&c)));
            write_cells(&name, many, next, out)?;
        }
        Ok(())
    }
}

/// calamine reads the parts of a workbook itself (shared strings all in memory): before it
/// does, every part is inflated once into nothing, counted against the file's budget. The
/// declared sizes are checked first (cheap), the real output then (a zip may lie).
fn inflates_within_budget<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    out: &TextOut,
) -> Result<(), Failure> {
    let budget = out.budget();
    let declared = (0..zip.len())
        .filter_map(|i| zip.by_index_raw(i).ok().map(|f| f.size()))
        .fold(0u64, u64::saturating_add);
    budget.check_declared(declared)?;
    let probe = budget.clone();
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index(i) else { continue };
        std::io::copy(&mut probe.reader(entry), &mut std::io::sink())?;
    }
    Ok(())
}

/// A cell's position and text (`None` when empty).
fn cell(c: &calamine::Cell<DataRef<'_>>) -> ((u32, u32), Option<String>) {
    let text = match c.get_value() {
        DataRef::Empty => None,
        DataRef::String(s) => Some(s.trim().to_owned()),
        DataRef::SharedString(s) => Some(s.trim().to_owned()),
        other => Some(Data::from(other.clone()).to_string()),
    };
    (c.get_position(), text)
}

/// Streams the cells of one sheet: the sheet name (when there are several), then one line per
/// row, cells separated by tabs. Cells come in row order; no dense range is built, so a sheet
/// claiming a cell at `XFD1048576` costs nothing.
fn write_cells<E: std::fmt::Display>(
    name: &str,
    many: bool,
    mut next: impl FnMut() -> Result<Option<((u32, u32), Option<String>)>, E>,
    out: &mut TextOut,
) -> Result<(), Failure> {
    if many {
        out.newline();
        out.push(name);
        out.newline();
    }
    let mut row = None;
    while let Some(((r, _), text)) =
        next().map_err(|e| Failure::corrupt(&format!("sheet `{name}`"), e))?
    {
        if row.is_some_and(|row| row != r) {
            out.newline();
        }
        row = Some(r);
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            out.sep("\t");
            out.push(&text);
        }
        if out.full() {
            return Ok(());
        }
    }
    out.newline();
    Ok(())
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

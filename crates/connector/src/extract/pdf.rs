//! PDF through pdf-extract (text layout) over lopdf (parsing, decryption).

use super::limits::TextOut;
use super::{Failure, Input};

pub(crate) fn read(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let bytes = input.all()?;
    if !bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return Err(Failure::Corrupt("no `%PDF-` header".to_owned()));
    }
    let mut doc = pdf_extract::Document::load_mem(&bytes)
        .map_err(|e| Failure::corrupt("not a valid PDF", e))?;
    drop(bytes);
    // Files with only an owner password open with the empty user password, as in any viewer.
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(Failure::Encrypted);
    }
    let mut text = String::new();
    {
        let mut sink = pdf_extract::PlainTextOutput::new(&mut text);
        pdf_extract::output_doc(&doc, &mut sink)
            .map_err(|e| Failure::corrupt("unreadable page content", e))?;
    }
    out.push(&text);
    Ok(())
}

//! PDF through pdf-extract (text layout) over lopdf (parsing, decryption).
//!
//! lopdf decodes every stream it touches whole, in memory (object and cross-reference streams
//! while loading, page contents, fonts and colour profiles while pdf-extract reads): a 1 MB file
//! with a 1 GiB Flate stream would take the process down. So before lopdf sees the file, every
//! stream is decoded once into nothing, streaming, through the filters lopdf would apply
//! (Flate, LZW, ASCII85, in chains), counted against the file's decompression budget. After
//! loading, what each page's content decodes to (a page may list the same stream many times) is
//! checked too, and so are the streams of an encrypted file, once decrypted.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};

use super::limits::{Budget, OverBudget, TextOut};
use super::{Failure, Input};

pub(crate) fn read(input: Input<'_>, out: &mut TextOut) -> Result<(), Failure> {
    let bytes = input.all()?;
    if !bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return Err(Failure::Corrupt("no `%PDF-` header".to_owned()));
    }
    let budget = out.budget().clone();
    scan_raw(&bytes, &budget)?;
    let mut doc = pdf_extract::Document::load_mem(&bytes)
        .map_err(|e| Failure::corrupt("not a valid PDF", e))?;
    drop(bytes);
    // Files with only an owner password open with the empty user password, as in any viewer.
    let encrypted = doc.is_encrypted();
    if encrypted && doc.decrypt("").is_err() {
        return Err(Failure::Encrypted);
    }
    check_loaded(&doc, budget.total(), encrypted)?;
    let mut text = String::new();
    {
        let mut sink = pdf_extract::PlainTextOutput::new(&mut text);
        pdf_extract::output_doc(&doc, &mut sink)
            .map_err(|e| Failure::corrupt("unreadable page content", e))?;
    }
    out.push(&text);
    Ok(())
}

/// Decodes every `stream ... endstream` of the raw file into nothing, with the filters its
/// dictionary names, all of them together within `budget`.
fn scan_raw(bytes: &[u8], budget: &Budget) -> Result<(), Failure> {
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], b"stream") {
        let kw = at + found;
        at = kw + 6;
        if kw >= 3 && &bytes[kw - 3..kw] == b"end" {
            continue;
        }
        let mut start = at;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let dict = dictionary_before(bytes, kw);
        let filters = filter_names(&dict);
        if filters.is_empty() {
            continue;
        }
        count_decoded(&bytes[start..], &filters, budget)?;
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The dictionary text before a `stream` keyword (back to its `obj`), name escapes decoded.
fn dictionary_before(bytes: &[u8], kw: usize) -> Vec<u8> {
    let from = kw.saturating_sub(64 * 1024);
    let window = &bytes[from..kw];
    let start = window
        .windows(3)
        .rposition(|w| w == b"obj")
        .map_or(0, |p| p + 3);
    let raw = &window[start..];
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && let Some(v) = raw
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// The names of `/Filter` in a dictionary's text: `/FlateDecode` or `[/A85 /FlateDecode]`.
fn filter_names(dict: &[u8]) -> Vec<Vec<u8>> {
    let Some(p) = find(dict, b"/Filter") else {
        return Vec::new();
    };
    let rest = &dict[p + 7..];
    let rest = &rest[rest
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(rest.len())..];
    let list = if rest.first() == Some(&b'[') {
        let end = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
        &rest[1..end]
    } else {
        rest
    };
    let mut names = Vec::new();
    let mut i = 0;
    while i < list.len() {
        match list[i] {
            b'/' => {
                let end = list[i + 1..]
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || b"/[]<>()".contains(b))
                    .map_or(list.len(), |e| i + 1 + e);
                names.push(list[i + 1..end].to_vec());
                i = end;
                if rest.first() != Some(&b'[') {
                    break;
                }
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => break,
        }
    }
    names
}

/// Decodes `data` through `filters` (in decoding order) into nothing, counting the output of
/// the last filter lopdf would apply against `budget`.
fn count_decoded<S: AsRef<[u8]>>(
    data: &[u8],
    filters: &[S],
    budget: &Budget,
) -> Result<(), Failure> {
    let mut reader: Box<dyn BufRead + '_> = Box::new(data);
    let mut decoding = false;
    for (i, f) in filters.iter().enumerate() {
        reader = match f.as_ref() {
            b"FlateDecode" => {
                let head = reader.fill_buf().unwrap_or_default();
                if i == 0 && head.len() >= 2 && !zlib_header(head[0], head[1]) {
                    // lopdf retries a stream with a damaged zlib header as raw deflate.
                    reader.consume(2);
                    Box::new(BufReader::new(flate2::bufread::DeflateDecoder::new(reader)))
                } else {
                    Box::new(BufReader::new(flate2::bufread::ZlibDecoder::new(reader)))
                }
            }
            b"LZWDecode" => Box::new(BufReader::new(Lzw::new(reader))),
            b"ASCII85Decode" => Box::new(BufReader::new(Ascii85::new(reader))),
            // lopdf decodes nothing else: it keeps the raw bytes, which the file bounds.
            _ => break,
        };
        decoding = true;
    }
    if !decoding {
        return Ok(());
    }
    match io::copy(&mut reader, &mut Counter(budget)) {
        Err(err) => match OverBudget::find(&err) {
            Some(bomb) => Err(bomb),
            // A damaged stream: lopdf keeps what decodes, which was counted.
            None => Ok(()),
        },
        Ok(_) => Ok(()),
    }
}

fn zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0F == 8 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// A sink that counts what it is given against a budget.
struct Counter<'a>(&'a Budget);

impl Write for Counter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.spend(buf.len() as u64) {
            Err(Failure::Bomb(why)) => Err(io::Error::other(OverBudget(why))),
            _ => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// LZW (PDF flavour: MSB first, early change) as a reader.
struct Lzw<R> {
    inner: R,
    dec: weezl::decode::Decoder,
    done: bool,
}

impl<R: BufRead> Lzw<R> {
    fn new(inner: R) -> Lzw<R> {
        Lzw {
            inner,
            dec: weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8),
            done: false,
        }
    }
}

impl<R: BufRead> Read for Lzw<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while !self.done && !out.is_empty() {
            let inp = self.inner.fill_buf()?;
            let eof = inp.is_empty();
            let r = self.dec.decode_bytes(inp, out);
            self.inner.consume(r.consumed_in);
            match r.status {
                Ok(weezl::LzwStatus::Ok) if !(eof && r.consumed_out == 0) => {}
                _ => self.done = true,
            }
            if r.consumed_out > 0 {
                return Ok(r.consumed_out);
            }
        }
        Ok(0)
    }
}

/// ASCII85 as a reader (it shrinks: counted only as the input of a later filter).
struct Ascii85<R> {
    inner: R,
    group: [u8; 5],
    n: usize,
    pending: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Ascii85<R> {
    fn new(inner: R) -> Ascii85<R> {
        Ascii85 {
            inner,
            group: [0; 5],
            n: 0,
            pending: Vec::new(),
            done: false,
        }
    }
}

/// Appends the bytes of one ASCII85 group of `len` digits (5, or 2-4 for the last one).
fn a85_group(group: &mut [u8; 5], len: usize, pending: &mut Vec<u8>) {
    for g in &mut group[len..] {
        *g = b'u' - b'!';
    }
    let v = group.iter().fold(0u64, |v, &d| v * 85 + u64::from(d)) as u32;
    pending.extend_from_slice(&v.to_be_bytes()[..len - 1]);
}

impl<R: BufRead> Read for Ascii85<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let Ascii85 {
            inner,
            group,
            n,
            pending,
            done,
        } = self;
        while pending.is_empty() && !*done {
            let inp = inner.fill_buf()?;
            if inp.is_empty() {
                *done = true;
                if *n > 1 {
                    a85_group(group, *n, pending);
                }
                break;
            }
            let mut used = inp.len();
            for (i, &b) in inp.iter().enumerate() {
                match b {
                    b'~' => {
                        used = i + 1;
                        *done = true;
                        break;
                    }
                    b'z' if *n == 0 => pending.extend_from_slice(&[0; 4]),
                    b'!'..=b'u' => {
                        group[*n] = b - b'!';
                        *n += 1;
                        if *n == 5 {
                            a85_group(group, 5, pending);
                            *n = 0;
                        }
                    }
                    _ => {}
                }
            }
            inner.consume(used);
            if *done && *n > 1 {
                a85_group(group, *n, pending);
            }
        }
        let k = pending.len().min(out.len());
        out[..k].copy_from_slice(&pending[..k]);
        pending.drain(..k);
        Ok(k)
    }
}

/// After loading: what each page's content decodes to, with every stream it lists counted as
/// often as it is listed; for an encrypted file (whose raw streams could not be scanned), every
/// stream once decrypted.
fn check_loaded(doc: &pdf_extract::Document, total: u64, encrypted: bool) -> Result<(), Failure> {
    let mut sizes: HashMap<pdf_extract::ObjectId, u64> = HashMap::new();
    let measure = |stream: &pdf_extract::Stream| -> Result<u64, Failure> {
        let Ok(filters) = stream.filters() else {
            return Ok(0);
        };
        let probe = Budget::new(total);
        count_decoded(&stream.content, &filters, &probe)?;
        Ok(total - probe.left())
    };
    if encrypted {
        let all = Budget::new(total);
        for (id, object) in &doc.objects {
            if let Ok(stream) = object.as_stream() {
                let n = measure(stream)?;
                all.spend(n)?;
                sizes.insert(*id, n);
            }
        }
    }
    for page in doc.get_pages().into_values() {
        let per_page = Budget::new(total);
        for id in doc.get_page_contents(page) {
            let n = match sizes.get(&id) {
                Some(n) => *n,
                None => {
                    let n = match doc.get_object(id).and_then(|o| o.as_stream()) {
                        Ok(stream) => measure(stream)?,
                        Err(_) => 0,
                    };
                    sizes.insert(id, n);
                    n
                }
            };
            per_page.spend(n)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_follow_the_dictionary() {
        let names = |d: &[u8]| filter_names(&dictionary_before(d, d.len()));
        assert_eq!(
            names(b"5 0 obj << /Length 9 /Filter /FlateDecode >>\n"),
            [b"FlateDecode".to_vec()]
        );
        assert_eq!(
            names(b"5 0 obj << /Filter [ /ASCII85Decode /Fl#61teDecode ] >>"),
            [b"ASCII85Decode".to_vec(), b"FlateDecode".to_vec()]
        );
        assert!(names(b"5 0 obj << /Length 3 >>").is_empty());
    }

    #[test]
    fn chains_are_decoded_and_counted() {
        use flate2::{Compression, write::ZlibEncoder};
        let deflate = |data: &[u8]| {
            let mut e = ZlibEncoder::new(Vec::new(), Compression::best());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let zeros = vec![0u8; 1 << 20];
        let twice = deflate(&deflate(&zeros));
        let budget = Budget::new(2 << 20);
        count_decoded(&twice, &["FlateDecode", "FlateDecode"], &budget).unwrap();
        assert_eq!(budget.left(), 1 << 20);
        let small = Budget::new(1000);
        assert!(matches!(
            count_decoded(&twice, &["FlateDecode", "FlateDecode"], &small),
            Err(Failure::Bomb(_))
        ));
        // ASCII85 of "Man is d" and a group of zeros.
        let mut a85 = Vec::new();
        Ascii85::new(&b"9jqo^BlbD-z~>"[..])
            .read_to_end(&mut a85)
            .unwrap();
        assert_eq!(a85, b"Man is d\0\0\0\0");
        // LZW as lopdf reads it.
        let mut enc = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        let lzw = enc.encode(&zeros).unwrap();
        let budget = Budget::new(4 << 20);
        count_decoded(&lzw, &["LZWDecode"], &budget).unwrap();
        assert_eq!(budget.left(), 3 << 20);
    }
}

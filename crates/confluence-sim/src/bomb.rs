//! Decompression bombs: a PDF whose one Flate content stream, and a DOCX whose
//! `word/document.xml`, inflate to more than 1 GiB while the files themselves stay near 1 MiB.
//!
//! Nothing of the inflated size is ever produced here. The compressed stream is assembled from
//! independently deflated, byte-aligned segments (each ends with a full flush): a head, one
//! 1 MiB run of spaces deflated once and repeated [`RUNS`] times, and a final tail. The
//! checksums of the inflated data (Adler-32 for the PDF's zlib stream, CRC-32 for the ZIP
//! entry) are computed in closed form or by combining, never over 1 GiB of bytes. Each file is
//! built once per process and cached (about 1 MiB each).
//!
//! Neither file holds any text: the inflated payload is insignificant whitespace (between PDF
//! operators, between XML elements), so the ground truth says `text: None` for both.

use std::sync::OnceLock;

use flate2::{Compress, Compression, FlushCompress};

/// Size of one repeated run of spaces.
const RUN: usize = 1 << 20;
/// How many runs: 1024 × 1 MiB = 1 GiB of inflated whitespace, plus head and tail.
pub(crate) const RUNS: u64 = 1024;

/// The inflated size of the PDF's content stream (head + runs + tail), at least 1 GiB.
#[cfg(test)]
pub(crate) fn inflated_size_pdf() -> u64 {
    (PDF_HEAD.len() + PDF_TAIL.len()) as u64 + RUNS * RUN as u64
}

/// The inflated size of the DOCX's `word/document.xml`.
pub(crate) fn inflated_size_docx() -> u64 {
    (DOCX_HEAD.len() + DOCX_TAIL.len()) as u64 + RUNS * RUN as u64
}

const PDF_HEAD: &[u8] = b"q\n";
const PDF_TAIL: &[u8] = b"\nQ\n";
const DOCX_HEAD: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>";
const DOCX_TAIL: &[u8] = b"<w:p/></w:body></w:document>";

/// Raw deflate of `data`, ending with a full flush (byte-aligned, not final) or, with
/// `last`, with the final block.
fn deflate_segment(data: &[u8], last: bool) -> Vec<u8> {
    let mut c = Compress::new(Compression::best(), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Full
    };
    let mut out = Vec::with_capacity(data.len() / 64 + 64);
    loop {
        let consumed = c.total_in() as usize;
        let status = c
            .compress_vec(&data[consumed..], &mut out, flush)
            .unwrap_or(flate2::Status::StreamEnd);
        let all_in = c.total_in() as usize == data.len();
        if last && status == flate2::Status::StreamEnd {
            break;
        }
        if !last && all_in && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(4096));
    }
    out
}

/// Raw deflate of head + `RUNS` × 1 MiB of spaces + tail, assembled from segments.
fn bomb_deflate(head: &[u8], tail: &[u8]) -> Vec<u8> {
    let run = deflate_segment(&vec![b' '; RUN], false);
    let head = deflate_segment(head, false);
    let tail = deflate_segment(tail, true);
    let mut out = Vec::with_capacity(head.len() + run.len() * RUNS as usize + tail.len());
    out.extend_from_slice(&head);
    for _ in 0..RUNS {
        out.extend_from_slice(&run);
    }
    out.extend_from_slice(&tail);
    out
}

const ADLER_MOD: u128 = 65_521;

/// Adler-32 state `(a, b)` after `data`.
fn adler_bytes((mut a, mut b): (u128, u128), data: &[u8]) -> (u128, u128) {
    for &x in data {
        a = (a + u128::from(x)) % ADLER_MOD;
        b = (b + a) % ADLER_MOD;
    }
    (a, b)
}

/// Adler-32 state after `n` more bytes of value `v`, in closed form.
fn adler_repeat((a, b): (u128, u128), v: u8, n: u128) -> (u128, u128) {
    let v = u128::from(v);
    let a2 = (a + n * v) % ADLER_MOD;
    let b2 = (b + n * a + v * (n * (n + 1) / 2)) % ADLER_MOD;
    (a2, b2)
}

/// CRC-32 of head + `RUNS` runs of spaces + tail, by combining.
fn crc_of(head: &[u8], tail: &[u8]) -> u32 {
    let mut run = crc32fast::Hasher::new();
    run.update(&vec![b' '; RUN]);
    let mut all_runs = run.clone();
    let mut n = 1u64;
    while n < RUNS {
        let copy = all_runs.clone();
        all_runs.combine(&copy);
        n *= 2;
    }
    let mut h = crc32fast::Hasher::new();
    h.update(head);
    h.combine(&all_runs);
    let mut t = crc32fast::Hasher::new();
    t.update(tail);
    h.combine(&t);
    h.finalize()
}

/// The bomb PDF: one page whose content stream is `q`, 1 GiB of spaces, `Q`, Flate-encoded.
pub(crate) fn pdf() -> &'static [u8] {
    static PDF: OnceLock<Vec<u8>> = OnceLock::new();
    PDF.get_or_init(|| {
        let mut z = vec![0x78, 0xDA];
        z.extend_from_slice(&bomb_deflate(PDF_HEAD, PDF_TAIL));
        let st = adler_bytes((1, 0), PDF_HEAD);
        let st = adler_repeat(st, b' ', u128::from(RUNS) * RUN as u128);
        let (a, b) = adler_bytes(st, PDF_TAIL);
        z.extend_from_slice(&(((b as u32) << 16) | a as u32).to_be_bytes());

        let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::new();
        let objects: [&[u8]; 3] = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> /Contents 4 0 R >>",
        ];
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        offsets.push(out.len());
        out.extend_from_slice(
            format!(
                "4 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
                z.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&z);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        out
    })
}

struct ZipEntry<'a> {
    name: &'a str,
    method: u16,
    crc: u32,
    compressed: &'a [u8],
    size: u64,
}

fn le16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn le32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A plain ZIP (no ZIP64: every size is below 4 GiB) of `entries`.
fn zip(entries: &[ZipEntry<'_>]) -> Vec<u8> {
    // 2024-01-01 00:00 in DOS time.
    let (time, date) = (0u16, ((2024 - 1980) << 9 | 1 << 5 | 1) as u16);
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for e in entries {
        offsets.push(out.len() as u32);
        le32(&mut out, 0x0403_4b50);
        le16(&mut out, 20);
        le16(&mut out, 0);
        le16(&mut out, e.method);
        le16(&mut out, time);
        le16(&mut out, date);
        le32(&mut out, e.crc);
        le32(&mut out, e.compressed.len() as u32);
        le32(&mut out, e.size as u32);
        le16(&mut out, e.name.len() as u16);
        le16(&mut out, 0);
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(e.compressed);
    }
    let cd_start = out.len() as u32;
    for (e, off) in entries.iter().zip(&offsets) {
        le32(&mut out, 0x0201_4b50);
        le16(&mut out, 20);
        le16(&mut out, 20);
        le16(&mut out, 0);
        le16(&mut out, e.method);
        le16(&mut out, time);
        le16(&mut out, date);
        le32(&mut out, e.crc);
        le32(&mut out, e.compressed.len() as u32);
        le32(&mut out, e.size as u32);
        le16(&mut out, e.name.len() as u16);
        le16(&mut out, 0);
        le16(&mut out, 0);
        le16(&mut out, 0);
        le16(&mut out, 0);
        le32(&mut out, 0);
        le32(&mut out, *off);
        out.extend_from_slice(e.name.as_bytes());
    }
    let cd_len = out.len() as u32 - cd_start;
    le32(&mut out, 0x0605_4b50);
    le16(&mut out, 0);
    le16(&mut out, 0);
    le16(&mut out, entries.len() as u16);
    le16(&mut out, entries.len() as u16);
    le32(&mut out, cd_len);
    le32(&mut out, cd_start);
    le16(&mut out, 0);
    out
}

/// The bomb DOCX: content types, package relationships, and a deflated `word/document.xml`
/// of more than 1 GiB (whitespace between `<w:body>` and an empty paragraph).
pub(crate) fn docx() -> &'static [u8] {
    static DOCX: OnceLock<Vec<u8>> = OnceLock::new();
    DOCX.get_or_init(|| {
        let types: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";
        let rels: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
        let crc = |d: &[u8]| {
            let mut h = crc32fast::Hasher::new();
            h.update(d);
            h.finalize()
        };
        let doc = bomb_deflate(DOCX_HEAD, DOCX_TAIL);
        zip(&[
            ZipEntry {
                name: "[Content_Types].xml",
                method: 0,
                crc: crc(types),
                compressed: types,
                size: types.len() as u64,
            },
            ZipEntry {
                name: "_rels/.rels",
                method: 0,
                crc: crc(rels),
                compressed: rels,
                size: rels.len() as u64,
            },
            ZipEntry {
                name: "word/document.xml",
                method: 8,
                crc: crc_of(DOCX_HEAD, DOCX_TAIL),
                compressed: &doc,
                size: inflated_size_docx(),
            },
        ])
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// Inflates at most `cap` bytes of `r`, counting and checking them as they stream.
    fn inflate_counting(mut r: impl Read, expect_end: &[u8]) -> u64 {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        let mut last = Vec::new();
        loop {
            let n = r.read(&mut buf).expect("inflates without error");
            if n == 0 {
                break;
            }
            total += n as u64;
            last.extend_from_slice(&buf[..n]);
            if last.len() > 4096 {
                last.drain(..last.len() - 4096);
            }
        }
        assert!(last.ends_with(expect_end));
        total
    }

    #[test]
    fn checksums_in_closed_form_match_direct_computation() {
        let data: Vec<u8> = b"ab".iter().copied().chain([b' '; 70_000]).collect();
        let st = adler_repeat(adler_bytes((1, 0), b"ab"), b' ', 70_000);
        let mut a = 1u128;
        let mut b = 0u128;
        for &x in &data {
            a = (a + u128::from(x)) % ADLER_MOD;
            b = (b + a) % ADLER_MOD;
        }
        assert_eq!(st, (a, b));
    }

    #[test]
    #[ignore = "inflates 2 GiB (streaming, constant memory); run with --ignored"]
    fn bombs_inflate_to_more_than_a_gibibyte_with_valid_checksums() {
        // The PDF's stream, through zlib (which checks the Adler-32).
        let pdf = pdf();
        let start = pdf.windows(7).position(|w| w == b"stream\n").unwrap() + 7;
        let end = pdf.windows(10).rposition(|w| w == b"\nendstream").unwrap();
        let n = inflate_counting(flate2::read::ZlibDecoder::new(&pdf[start..end]), PDF_TAIL);
        assert_eq!(n, inflated_size_pdf());
        // The DOCX's document.xml, with its CRC, through a raw inflater.
        let docx = docx();
        let name = b"word/document.xml";
        let at = (30..docx.len() - name.len())
            .find(|&i| &docx[i..i + name.len()] == name && docx[i - 30..i - 26] == *b"PK\x03\x04")
            .unwrap();
        let header = at - 30;
        let le = |o: usize| u32::from_le_bytes(docx[o..o + 4].try_into().unwrap());
        let (crc, clen) = (le(header + 14), le(header + 18) as usize);
        let data = &docx[at + name.len()..at + name.len() + clen];
        struct Crc<R>(R, crc32fast::Hasher);
        impl<R: Read> Read for Crc<R> {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read(b)?;
                self.1.update(&b[..n]);
                Ok(n)
            }
        }
        let mut r = Crc(
            flate2::read::DeflateDecoder::new(data),
            crc32fast::Hasher::new(),
        );
        let n = inflate_counting(&mut r, DOCX_TAIL);
        assert_eq!(n, inflated_size_docx());
        assert_eq!(r.1.finalize(), crc);
        assert!(inflated_size_docx() >= 1 << 30);
    }

    #[test]
    fn bombs_are_small_files() {
        assert!(pdf().len() < 3 << 20, "{}", pdf().len());
        assert!(docx().len() < 3 << 20, "{}", docx().len());
        assert!(inflated_size_pdf() >= 1 << 30);
        assert!(inflated_size_docx() >= 1 << 30);
        // The first megabytes inflate to what they should (a prefix check, bounded).
        let pdf = pdf();
        let start = pdf.windows(7).position(|w| w == b"stream\n").unwrap() + 7;
        let mut head = vec![0u8; 4 << 20];
        let mut d = flate2::read::ZlibDecoder::new(&pdf[start..]);
        d.read_exact(&mut head).unwrap();
        assert!(head.starts_with(PDF_HEAD));
        assert!(head[PDF_HEAD.len()..].iter().all(|&b| b == b' '));
    }
}

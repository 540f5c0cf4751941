//! The plain-text writer: collapses whitespace, breaks lines at blocks, keeps code verbatim.

#[derive(Debug, Default)]
pub(crate) struct Output {
    buf: String,
    /// The current line holds visible text.
    line_has_text: bool,
    /// Whitespace was seen since the last visible character of this line.
    pending_space: bool,
    /// A cell separator to write before the next visible character of this line.
    pending_separator: Option<&'static str>,
}

impl Output {
    /// Flowing text: runs of whitespace (including no-break spaces) become one space.
    pub fn text(&mut self, s: &str) -> bool {
        let mut wrote = false;
        for c in s.chars() {
            if c.is_whitespace() {
                if self.line_has_text {
                    self.pending_space = true;
                }
            } else if !c.is_control() {
                if let Some(sep) = self.pending_separator.take() {
                    self.buf.push_str(sep);
                    self.pending_space = false;
                }
                if self.pending_space {
                    self.buf.push(' ');
                    self.pending_space = false;
                }
                self.buf.push(c);
                self.line_has_text = true;
                wrote = true;
            }
        }
        wrote
    }

    /// A word boundary (e.g. between two inline blocks) without a line break.
    pub fn space(&mut self) {
        if self.line_has_text {
            self.pending_space = true;
        }
    }

    /// Ends the current line, if it has text.
    pub fn newline(&mut self) {
        if self.line_has_text {
            self.buf.push('\n');
            self.line_has_text = false;
        }
        self.pending_space = false;
        self.pending_separator = None;
    }

    /// A separator between table cells on one line.
    /// Written only if more text follows on this line, so empty trailing cells leave no trace.
    pub fn separator(&mut self, sep: &'static str) {
        if self.line_has_text {
            self.pending_separator = Some(sep);
        }
    }

    /// A block of preformatted text (code): its own lines, inner whitespace kept, trailing
    /// spaces and surrounding blank lines dropped.
    pub fn verbatim(&mut self, s: &str) {
        let lines: Vec<&str> = s.lines().map(str::trim_end).collect();
        let first = lines.iter().position(|l| !l.is_empty());
        let last = lines.iter().rposition(|l| !l.is_empty());
        let (Some(first), Some(last)) = (first, last) else {
            return;
        };
        self.newline();
        for line in &lines[first..=last] {
            self.buf
                .extend(line.chars().filter(|c| !c.is_control() || *c == '\t'));
            self.buf.push('\n');
        }
        self.line_has_text = false;
        self.pending_space = false;
    }

    /// The text written, without trailing whitespace.
    pub fn finish(mut self) -> String {
        let len = self.buf.trim_end().len();
        self.buf.truncate(len);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_and_breaks() {
        let mut o = Output::default();
        o.text("  a \n\t b\u{a0} ");
        o.newline();
        o.newline();
        o.text("c");
        o.separator(" | ");
        o.text(" d");
        o.verbatim("\n\n  x = 1  \n    y\n\n");
        o.text("e");
        assert_eq!(o.finish(), "a b\nc | d\n  x = 1\n    y\ne");
    }
}

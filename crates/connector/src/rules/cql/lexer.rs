//! The CQL lexer. It never fails: characters it cannot place become [`Tok::Bad`] tokens, and an
//! unterminated quote runs to the end of the text, so the editor can highlight any input.

use std::ops::Range;

use super::ast::Op;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: field, keyword, unquoted value or function name.
    Word(String),
    /// A quoted string, unescaped; `closed` is false when the text ended first.
    Quoted {
        text: String,
        closed: bool,
    },
    /// A comparison operator.
    Op(Op),
    LParen,
    RParen,
    Comma,
    /// A character that has no place in CQL outside quotes (or a lone `!`).
    Bad(char),
}

/// A token and its byte range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

/// Characters of a bare word. Reserved characters (`; ? | % ^ $ # &` ...) need quotes.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | ':' | '+' | '*' | '@' | '[' | ']')
}

pub(crate) fn lex(q: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut it = q.char_indices().peekable();
    while let Some((start, c)) = it.next() {
        let single = |tok| Token {
            tok,
            span: start..start + c.len_utf8(),
        };
        match c {
            c if c.is_whitespace() => {}
            '(' => out.push(single(Tok::LParen)),
            ')' => out.push(single(Tok::RParen)),
            ',' => out.push(single(Tok::Comma)),
            '=' => out.push(single(Tok::Op(Op::Eq))),
            '~' => out.push(single(Tok::Op(Op::Contains))),
            '!' | '>' | '<' => {
                let next = it.peek().map(|&(_, n)| n);
                let (tok, two) = match (c, next) {
                    ('!', Some('=')) => (Tok::Op(Op::Ne), true),
                    ('!', Some('~')) => (Tok::Op(Op::NotContains), true),
                    ('!', _) => (Tok::Bad('!'), false),
                    ('>', Some('=')) => (Tok::Op(Op::Ge), true),
                    ('>', _) => (Tok::Op(Op::Gt), false),
                    ('<', Some('=')) => (Tok::Op(Op::Le), true),
                    _ => (Tok::Op(Op::Lt), false),
                };
                let end = if two {
                    it.next();
                    start + 2
                } else {
                    start + 1
                };
                out.push(Token {
                    tok,
                    span: start..end,
                });
            }
            '"' | '\'' => {
                let mut text = String::new();
                let mut closed = false;
                let mut end = q.len();
                while let Some((i, ch)) = it.next() {
                    if ch == '\\' {
                        if let Some((_, escaped)) = it.next() {
                            text.push(escaped);
                        }
                        continue;
                    }
                    if ch == c {
                        closed = true;
                        end = i + 1;
                        break;
                    }
                    text.push(ch);
                }
                out.push(Token {
                    tok: Tok::Quoted { text, closed },
                    span: start..end,
                });
            }
            c if is_word_char(c) => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, ch)) = it.peek() {
                    if !is_word_char(ch) {
                        break;
                    }
                    end = i + ch.len_utf8();
                    it.next();
                }
                out.push(Token {
                    tok: Tok::Word(q[start..end].to_owned()),
                    span: start..end,
                });
            }
            other => out.push(single(Tok::Bad(other))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(q: &str) -> Vec<Tok> {
        lex(q).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_words_and_strings() {
        assert_eq!(
            toks("a!=b >= 'c\\'d' !~\"e\""),
            vec![
                Tok::Word("a".into()),
                Tok::Op(Op::Ne),
                Tok::Word("b".into()),
                Tok::Op(Op::Ge),
                Tok::Quoted {
                    text: "c'd".into(),
                    closed: true
                },
                Tok::Op(Op::NotContains),
                Tok::Quoted {
                    text: "e".into(),
                    closed: true
                },
            ]
        );
        assert_eq!(
            toks("x = \"open"),
            vec![
                Tok::Word("x".into()),
                Tok::Op(Op::Eq),
                Tok::Quoted {
                    text: "open".into(),
                    closed: false
                },
            ]
        );
        assert_eq!(
            toks("a ! b;"),
            vec![
                Tok::Word("a".into()),
                Tok::Bad('!'),
                Tok::Word("b".into()),
                Tok::Bad(';')
            ]
        );
        let spans: Vec<_> = lex("é = 'ü'").into_iter().map(|t| t.span).collect();
        assert_eq!(spans, vec![0..2, 3..4, 5..9]);
    }
}

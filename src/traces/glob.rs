//! Case-insensitive wildcard patterns used by every trace rule.
//!
//! Two wildcards exist: `*` matches any run of characters (also none, also path
//! separators) and `?` matches exactly one character. Everything else is literal,
//! including `[`, `]` and `{`…`}` (registry GUIDs such as `{CEBFF5CD-…}` appear in
//! rules as written). Comparison folds case the way Windows names do in practice:
//! per character, with Unicode simple lower-casing. A rule may ask for one event
//! field to be compared with its case kept ([`Glob::case_sensitive`]), where the case
//! itself is the fact (a Kerberos realm the KDC always writes in upper case).
//!
//! Two placeholders stand for the tool's own file and are resolved by the matcher,
//! not here: `{exe}` (a file name such as `psexec.exe`) and `{path}` (that file at
//! any location). A brace pair that holds only lower-case letters or `_` is read as a
//! placeholder, so an unknown one (for example a leftover `{tool_exe}`) is an error
//! rather than a literal that silently never matches.

use std::fmt;

/// The placeholder for the tool's executable file name.
pub const EXE_PLACEHOLDER: &str = "{exe}";
/// The placeholder for the tool's executable at any path.
pub const PATH_PLACEHOLDER: &str = "{path}";

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    /// The pattern is the empty string, which would only match empty values.
    #[error("empty pattern")]
    Empty,
    /// The pattern contains a control character (tab, newline, NUL …).
    #[error("control character U+{code:04X} at character {index}")]
    ControlChar {
        /// Code point of the offending character.
        code: u32,
        /// Its position in the pattern (0-based, in characters).
        index: usize,
    },
    /// A `{name}` that is neither `{exe}` nor `{path}`.
    #[error("unknown placeholder {{{name}}}; only {{exe}} and {{path}} exist")]
    UnknownPlaceholder {
        /// The name between the braces.
        name: String,
    },
}

/// A compiled wildcard pattern, case-insensitive unless made with
/// [`Glob::case_sensitive`].
#[derive(Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    /// The pattern as compared: lower-cased, or as written when `fold_case` is false.
    folded: Vec<char>,
    /// `folded` as bytes when the pattern is ASCII (the fast path of [`Glob::matches`]).
    ascii: Option<Vec<u8>>,
    /// Whether text is lower-cased before comparing (every glob but a case-sensitive one).
    fold_case: bool,
    /// How many bytes at the end of `ascii` are literal (after its last wildcard):
    /// a text that does not end with them cannot match, which most texts show at
    /// once.
    tail: usize,
    /// `ascii` cut at its stars when `*` is its only wildcard (most patterns): the
    /// text must start with the first piece, end with the last and hold the
    /// others in order between, which a substring search finds (see
    /// [`pieces_match`]).
    pieces: Option<Vec<Vec<u8>>>,
    has_placeholder: bool,
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.source)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Glob {
    /// Checks and compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        if let Some((index, c)) = pattern.chars().enumerate().find(|(_, c)| c.is_control()) {
            return Err(GlobError::ControlChar {
                code: u32::from(c),
                index,
            });
        }
        let mut has_placeholder = false;
        for name in placeholder_names(pattern) {
            match name {
                "exe" | "path" => has_placeholder = true,
                other => {
                    return Err(GlobError::UnknownPlaceholder {
                        name: other.to_string(),
                    })
                }
            }
        }
        Ok(Self::compile(pattern.to_string(), true, has_placeholder))
    }

    /// Checks and compiles `pattern` to compare with case kept: `*A*` accepts `xAy`,
    /// not `xay`.
    pub fn case_sensitive(pattern: &str) -> Result<Self, GlobError> {
        let glob = Self::new(pattern)?;
        Ok(Self::compile(glob.source, false, glob.has_placeholder))
    }

    fn compile(source: String, fold_case: bool, has_placeholder: bool) -> Self {
        let (folded, ascii) = if fold_case {
            (fold(&source), ascii_folded(&source))
        } else {
            (
                source.chars().collect(),
                source.is_ascii().then(|| source.as_bytes().to_vec()),
            )
        };
        let pieces = ascii
            .as_ref()
            .filter(|a| !a.contains(&b'?'))
            .map(|a| a.split(|&b| b == b'*').map(<[u8]>::to_vec).collect());
        Self {
            folded,
            ascii,
            fold_case,
            pieces,
            tail: literal_tail(&source),
            source,
            has_placeholder,
        }
    }

    /// Whether the pattern ignores case (every glob but a [`Glob::case_sensitive`] one).
    pub fn folds_case(&self) -> bool {
        self.fold_case
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when the pattern holds `{exe}` or `{path}` and so needs [`Glob::resolve`]
    /// before it can say anything about a record.
    pub fn has_placeholder(&self) -> bool {
        self.has_placeholder
    }

    /// Replaces the placeholders: `{exe}` by `exe` and `{path}` by `*\exe`. With no
    /// name known (`None`) both become `*`, which keeps the rest of the pattern useful.
    pub fn resolve(&self, exe: Option<&str>) -> Glob {
        if !self.has_placeholder {
            return self.clone();
        }
        let (exe_text, path_text) = match exe {
            Some(name) => (name.to_string(), format!("*\\{name}")),
            None => ("*".to_string(), "*".to_string()),
        };
        let source = self
            .source
            .replace(PATH_PLACEHOLDER, &path_text)
            .replace(EXE_PLACEHOLDER, &exe_text);
        Self::compile(source, self.fold_case, false)
    }

    /// Whether `text` matches the whole pattern, ignoring case unless the glob is
    /// case-sensitive. Placeholders, if still present, are compared literally.
    pub fn matches(&self, text: &str) -> bool {
        // Nearly every pattern and value is ASCII: compare bytes, folding as we go,
        // without building a folded copy of the value (this runs per field per trace).
        let fold_case = self.fold_case;
        if let Some(pieces) = &self.pieces {
            if text.is_ascii() {
                return pieces_match(pieces, text.as_bytes(), fold_case);
            }
        }
        if let Some(pattern) = &self.ascii {
            if text.is_ascii() {
                let (text, tail) = (text.as_bytes(), &pattern[pattern.len() - self.tail..]);
                let end = text
                    .len()
                    .checked_sub(tail.len())
                    .map(|start| &text[start..]);
                let ends = end.is_some_and(|end| match fold_case {
                    true => end.eq_ignore_ascii_case(tail),
                    false => end == tail,
                });
                let symbol = |b: u8| if fold_case { b.to_ascii_lowercase() } else { b };
                return ends && wildcard_match(pattern, text, symbol);
            }
        }
        match fold_case {
            true => wildcard_match(&self.folded, &fold(text), |c| c),
            false => wildcard_match(&self.folded, &text.chars().collect::<Vec<_>>(), |c| c),
        }
    }

    /// [`Glob::matches`] for text already passed through [`fold`], so a text
    /// tested against many patterns is folded once. Only for case-insensitive globs:
    /// the rules allow case-sensitive ones on event fields alone, never compared so.
    pub fn matches_folded(&self, folded: &[char]) -> bool {
        wildcard_match(&self.folded, folded, |c| c)
    }
}

/// Names inside `{…}` pairs that look like placeholders (only `a`-`z` and `_`).
fn placeholder_names(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('{').skip(1).filter_map(|rest| {
        let name = rest.split('}').next()?;
        let closed = rest.len() > name.len();
        let looks_like =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        (closed && looks_like).then_some(name)
    })
}

/// `s` lower-cased character by character, as patterns are compared.
pub fn fold(s: &str) -> Vec<char> {
    // Nearly every value is ASCII, and the Unicode path is several times slower.
    if s.is_ascii() {
        return s
            .bytes()
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The lower-cased bytes of an ASCII pattern; `None` when it is not ASCII.
fn ascii_folded(pattern: &str) -> Option<Vec<u8>> {
    pattern
        .is_ascii()
        .then(|| pattern.bytes().map(|b| b.to_ascii_lowercase()).collect())
}

/// Bytes after the last wildcard of a pattern (all of them when it has none).
fn literal_tail(pattern: &str) -> usize {
    pattern
        .bytes()
        .rev()
        .take_while(|&b| b != b'*' && b != b'?')
        .count()
}

/// Symbols a pattern is made of: characters, or bytes on the ASCII fast path.
trait Symbol: Copy + PartialEq {
    const STAR: Self;
    const ANY: Self;
}

impl Symbol for char {
    const STAR: char = '*';
    const ANY: char = '?';
}

impl Symbol for u8 {
    const STAR: u8 = b'*';
    const ANY: u8 = b'?';
}

/// Whether `text` matches a pattern whose only wildcard is `*`, given as the
/// `pieces` between its stars (lower-cased when `fold_case`): the first piece
/// starts the text, the last ends it, and the others lie in order between, each
/// found leftmost (taking the leftmost never costs a later piece a place). Linear
/// in the text for each piece in practice; never worse than pattern × text.
fn pieces_match(pieces: &[Vec<u8>], text: &[u8], fold_case: bool) -> bool {
    let same = |a: &[u8], b: &[u8]| match fold_case {
        true => a.eq_ignore_ascii_case(b),
        false => a == b,
    };
    let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
        return text.is_empty();
    };
    if pieces.len() == 1 {
        return same(text, first);
    }
    let Some(middle_end) = text.len().checked_sub(last.len()) else {
        return false;
    };
    if middle_end < first.len()
        || !same(&text[..first.len()], first)
        || !same(&text[middle_end..], last)
    {
        return false;
    }
    let mut rest = &text[first.len()..middle_end];
    for piece in &pieces[1..pieces.len() - 1] {
        match find(rest, piece, fold_case) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Where `needle` first occurs in `haystack`, ignoring ASCII case when `fold_case`
/// (`needle` is lower-cased then).
fn find(haystack: &[u8], needle: &[u8], fold_case: bool) -> Option<usize> {
    let Some(&head) = needle.first() else {
        return Some(0);
    };
    if !fold_case {
        return memchr::memmem::find(haystack, needle);
    }
    let mut from = 0;
    while let Some(i) = memchr::memchr2(head, head.to_ascii_uppercase(), &haystack[from..]) {
        let at = from + i;
        let candidate = haystack.get(at..at + needle.len())?;
        if candidate.eq_ignore_ascii_case(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Greedy wildcard match with single-point backtracking to the last `*`: linear in
/// practice and never worse than pattern × text. `fold` lower-cases a text symbol
/// (the identity when the text is folded already).
fn wildcard_match<S: Symbol>(pattern: &[S], text: &[S], fold: impl Fn(S) -> S) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(&c) if c == S::STAR => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == S::ANY || c == fold(text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|&c| c == S::STAR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        Glob::new(pattern).unwrap().matches(text)
    }

    #[test]
    fn literal_is_case_insensitive_and_whole() {
        assert!(m("PSEXESVC", "psexesvc"));
        assert!(m("C:\\Windows\\PSEXESVC.exe", "c:\\windows\\psexesvc.EXE"));
        assert!(!m("PSEXESVC", "PSEXESVC2"));
        assert!(!m("PSEXESVC", "xPSEXESVC"));
    }

    #[test]
    fn star_spans_any_run_including_separators() {
        assert!(m("PSEXESVC.EXE-*.pf", "PSEXESVC.EXE-AD70946C.pf"));
        assert!(m("*\\AAA.AAA", "\\Users\\x\\AAA.AAA"));
        assert!(m("*", ""));
        assert!(m("a*", "a"));
        assert!(m(
            "*ntdsutil* ifm*",
            "\"C:\\Windows\\system32\\ntdsutil.exe\" \"ac i ntds\" ifm \"create full c:\\x\" q q"
        ));
        assert!(!m("*ntdsutil* ifm*", "ntdsutil snapshot"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn question_mark_is_exactly_one_character() {
        assert!(m("net?.exe", "net1.exe"));
        assert!(!m("net?.exe", "net.exe"));
        assert!(!m("net?.exe", "net12.exe"));
    }

    #[test]
    fn backtracking_after_a_false_start() {
        assert!(m("*PSEXESVC-*-*-stdin", "\\PSEXESVC-HOST-1234-stdin"));
        assert!(m("*ab", "aaab"));
        assert!(m("*a?b", "xxa_a_b"));
        assert!(!m("*a?b", "xxab"));
    }

    #[test]
    fn ascii_fast_path_agrees_with_the_folded_path() {
        let patterns = [
            "*psexe?svc*",
            "C:\\*\\wmic.exe",
            "*-ACCEPTEULA*",
            "a*b*c",
            "??",
            "*",
        ];
        let texts = [
            "PSEXESVC",
            "x psexeCsvc y",
            "c:\\windows\\WMIC.EXE",
            "a-b-c",
            "ab",
            "",
        ];
        for p in patterns {
            let glob = Glob::new(p).unwrap();
            for t in texts {
                assert_eq!(glob.matches(t), glob.matches_folded(&fold(t)), "{p} {t}");
            }
        }
    }

    /// Every star-only pattern over a small alphabet (up to five symbols) against
    /// every text over it (up to six): the piece search and the backtracking
    /// match agree, folding case and not.
    #[test]
    fn piece_search_agrees_with_the_backtracking_match() {
        fn words(alphabet: &[u8], longest: usize) -> Vec<Vec<u8>> {
            let mut all = vec![Vec::new()];
            let mut last = vec![Vec::new()];
            for _ in 0..longest {
                last = last
                    .iter()
                    .flat_map(|w: &Vec<u8>| {
                        alphabet.iter().map(move |&c| {
                            let mut next = w.clone();
                            next.push(c);
                            next
                        })
                    })
                    .collect();
                all.extend(last.iter().cloned());
            }
            all
        }
        let texts = words(b"abA", 6);
        let mut checked = 0;
        for pattern in words(b"ab*", 5).into_iter().filter(|p| !p.is_empty()) {
            let pattern = String::from_utf8(pattern).unwrap();
            for glob in [
                Glob::new(&pattern).unwrap(),
                Glob::case_sensitive(&pattern).unwrap(),
            ] {
                assert!(glob.pieces.is_some());
                for text in &texts {
                    let text = std::str::from_utf8(text).unwrap();
                    let chars: Vec<char> = if glob.fold_case {
                        fold(text)
                    } else {
                        text.chars().collect()
                    };
                    let expected = wildcard_match(&glob.folded, &chars, |c| c);
                    assert_eq!(glob.matches(text), expected, "{pattern:?} {text:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 500_000, "{checked}");
    }

    /// A case-sensitive glob keeps the case on both paths (ASCII and not), and a
    /// wildcard still spans anything.
    #[test]
    fn case_sensitive_globs_keep_the_case() {
        let lower = |t: &str| Glob::case_sensitive("*a*").unwrap().matches(t);
        assert!(lower("example.lan") && lower("a"));
        assert!(!lower("EXAMPLE.LAN") && !lower("ÄA"));
        assert!(lower("ÉCOLE.lan") && !lower("ÉCOLE.LAN"));
        let exact = Glob::case_sensitive("Krbtgt").unwrap();
        assert!(exact.matches("Krbtgt") && !exact.matches("krbtgt") && !exact.matches("KRBTGT"));
        assert!(!exact.folds_case() && Glob::new("Krbtgt").unwrap().folds_case());
        assert!(Glob::case_sensitive("{bad}").is_err());
    }

    #[test]
    fn non_ascii_folds() {
        assert!(m("ÄRGER*", "ärger.txt"));
    }

    #[test]
    fn braces_that_are_not_placeholders_are_literal() {
        let g = Glob::new("Count\\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\*").unwrap();
        assert!(!g.has_placeholder());
        assert!(g.matches("count\\{cebff5cd-ace2-4f4f-9178-9926f41749ea}\\x"));
        assert!(Glob::new("TCP Query User{*}*").is_ok());
    }

    #[test]
    fn refuses_bad_patterns() {
        assert_eq!(Glob::new(""), Err(GlobError::Empty));
        assert_eq!(
            Glob::new("a\tb"),
            Err(GlobError::ControlChar { code: 9, index: 1 })
        );
        assert_eq!(
            Glob::new("{tool_exe}-*.pf"),
            Err(GlobError::UnknownPlaceholder {
                name: "tool_exe".into()
            })
        );
    }

    #[test]
    fn placeholders_resolve() {
        let g = Glob::new("{exe}-*.pf").unwrap();
        assert!(g.has_placeholder());
        assert!(g
            .resolve(Some("PSEXEC.EXE"))
            .matches("PSEXEC.EXE-0123ABCD.pf"));
        assert!(!g.resolve(Some("psexec.exe")).matches("CMD.EXE-0123ABCD.pf"));
        let p = Glob::new("{path} -accepteula *").unwrap();
        let r = p.resolve(Some("psexec.exe"));
        assert_eq!(r.as_str(), "*\\psexec.exe -accepteula *");
        assert!(r.matches("C:\\tools\\PsExec.exe -accepteula \\\\host cmd"));
        assert!(p.resolve(None).matches("anything -accepteula x"));
    }
}

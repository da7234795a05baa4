//! Just enough of a Task Scheduler XML file (Task Scheduler schema 1.2+) to say what
//! a task runs: `Actions/Exec/Command` and `Arguments`, `RegistrationInfo/Author`
//! and `Date`, `Principals/Principal/UserId` and the trigger elements.
//!
//! A tiny tag extractor rather than an XML parser: task files are flat and written
//! by Windows, and attacker-made ones must not be able to do anything but give wrong
//! text. It never expands entities other than the five predefined ones and numeric
//! character references (no DTD, no external entities), and it reads at most
//! [`MAX_XML_BYTES`]. Comments, processing instructions and declarations are
//! left out, CDATA read as text and namespace prefixes dropped before the tags
//! are looked at (see `markup_only`), so text inside them is never taken for
//! markup.

/// Largest task file read; real ones are a few KiB.
pub const MAX_XML_BYTES: u64 = 1 << 20;

/// What a task file says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskXml {
    /// `Exec/Command` of every action, ` | `-joined.
    pub command: String,
    /// `Exec/Arguments` of every action, ` | `-joined.
    pub arguments: String,
    /// `RegistrationInfo/Author`.
    pub author: String,
    /// `RegistrationInfo/Date` as written (local time of the registering host,
    /// often without a zone).
    pub date: String,
    /// `Principal/UserId`.
    pub user_id: String,
    /// Trigger kinds with their start boundary, `; `-joined.
    pub triggers: String,
}

/// Decodes a task file: UTF-16LE (with or without BOM, as Windows writes them) or
/// UTF-8 (with or without BOM).
pub fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16le(rest);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if bytes.len() >= 2 && bytes[0] != 0 && bytes[1] == 0 {
        return utf16le(bytes);
    }
    String::from_utf8_lossy(bytes).into_owned()
}

fn utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Reads the fields of a decoded task file; `Err` when it holds no `<Task>`
/// element (empty, binary, or some other document): a loss to report.
pub fn parse(xml: &str) -> Result<TaskXml, String> {
    let xml = &markup_only(xml);
    if !opens_task(xml) {
        return Err("not a task definition: no <Task> element".into());
    }
    let first = |tag: &str| texts(xml, tag).into_iter().next().unwrap_or_default();
    Ok(TaskXml {
        command: texts(xml, "Command").join(" | "),
        arguments: texts(xml, "Arguments").join(" | "),
        author: first("Author"),
        date: first("Date"),
        user_id: first("UserId"),
        triggers: triggers(xml),
    })
}

/// Whether `xml` opens a `<Task>` element (a cut file still counts: what it holds
/// is read).
fn opens_task(xml: &str) -> bool {
    xml.match_indices("<Task").any(|(at, tag)| {
        xml[at + tag.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == '>' || c == '/' || c.is_whitespace())
    })
}

/// `xml` as the tag extractor reads it, in one pass: comments, processing
/// instructions and declarations (`<!DOCTYPE …>`) left out, so that markup inside
/// them (a decoy `<Command>` in a comment) is not taken for the task's; a CDATA
/// section's text written escaped in its place, so it reads as the text it is;
/// and element names without their namespace prefix (`<t:Command>` is a
/// `Command`).
fn markup_only(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tag = &rest[lt..];
        let skip_to = |end: &str| tag.find(end).map_or(tag.len(), |at| at + end.len());
        if tag.starts_with("<!--") {
            rest = &tag[skip_to("-->")..];
        } else if let Some(body) = tag.strip_prefix("<![CDATA[") {
            let end = body.find("]]>").unwrap_or(body.len());
            for c in body[..end].chars() {
                match c {
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '&' => out.push_str("&amp;"),
                    c => out.push(c),
                }
            }
            rest = body.get(end + 3..).unwrap_or_default();
        } else if tag.starts_with("<?") {
            rest = &tag[skip_to("?>")..];
        } else if tag.starts_with("<!") {
            rest = &tag[skip_to(">")..];
        } else {
            // An element tag: `<`, an optional `/`, then the name, whose prefix
            // up to a colon is dropped.
            let close = usize::from(tag[1..].starts_with('/'));
            let name_end = tag[1 + close..]
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/' || c == '<')
                .map_or(tag.len(), |at| at + 1 + close);
            let name = &tag[1 + close..name_end];
            out.push_str(&tag[..1 + close]);
            out.push_str(name.rsplit_once(':').map_or(name, |(_, local)| local));
            rest = &tag[name_end..];
        }
    }
    out.push_str(rest);
    out
}

/// The text content of every `<tag>…</tag>` element (no nested markup expected).
fn texts(xml: &str, tag: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some((body, after)) = next_element(rest, tag) {
        out.push(unescape(body.trim()));
        rest = after;
    }
    out
}

/// The body of the next `<tag>` or `<tag attr…>` element and the text after it.
fn next_element<'a>(xml: &'a str, tag: &str) -> Option<(&'a str, &'a str)> {
    let mut search = xml;
    loop {
        let start = search.find('<')?;
        let after_lt = &search[start + 1..];
        let matches_tag = after_lt.starts_with(tag)
            && after_lt[tag.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c == '/' || c.is_whitespace());
        if !matches_tag {
            search = after_lt;
            continue;
        }
        let open_end = after_lt.find('>')?;
        if after_lt[..open_end].ends_with('/') {
            // `<tag/>`: empty.
            return Some(("", &after_lt[open_end + 1..]));
        }
        let body_and_rest = &after_lt[open_end + 1..];
        let close = format!("</{tag}>");
        let end = body_and_rest.find(&close)?;
        return Some((&body_and_rest[..end], &body_and_rest[end + close.len()..]));
    }
}

/// `TimeTrigger start 2022-03-11T13:05:00; LogonTrigger` from the `<Triggers>` block.
///
/// One pass over its tags: a trigger's start boundary is the first one after its
/// opening tag and before its end or the next trigger. (Looking for each trigger's
/// closing tag instead reads the rest of the block once per unclosed trigger: a
/// 1 MiB file of them took a minute.)
fn triggers(xml: &str) -> String {
    let Some((block, _)) = next_element(xml, "Triggers") else {
        return String::new();
    };
    let mut out = Vec::new();
    // The trigger being read: its name and start boundary.
    let mut current: Option<(&str, Option<String>)> = None;
    let mut rest = block;
    while let Some(start) = rest.find('<') {
        let tag = &rest[start + 1..];
        // A tag ends at `>`, or where the next one starts if it is never closed.
        let end = tag.find(['<', '>']).unwrap_or(tag.len());
        let inside = &tag[..end];
        rest = tag[end..].strip_prefix('>').unwrap_or(&tag[end..]);
        let (closing, named) = match inside.strip_prefix('/') {
            Some(named) => (true, named),
            None => (false, inside),
        };
        let name_len = named
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(named.len());
        let name = &named[..name_len];
        if name.ends_with("Trigger") {
            out.extend(current.take().map(summary));
            if !closing && !inside.ends_with('/') {
                current = Some((name, None));
            } else if !closing {
                out.push(name.to_string());
            }
        } else if name == "StartBoundary" && !closing {
            if let Some((_, boundary @ None)) = &mut current {
                let text = &rest[..rest.find('<').unwrap_or(rest.len())];
                *boundary = Some(unescape(text.trim()));
            }
        }
    }
    out.extend(current.map(summary));
    out.join("; ")
}

/// `TimeTrigger start 2022-03-11T13:05:00`, or the bare name without a boundary.
fn summary((name, boundary): (&str, Option<String>)) -> String {
    match boundary {
        Some(b) => format!("{name} start {b}"),
        None => name.to_string(),
    }
}

/// Replaces the predefined entities and numeric character references; anything else
/// is left as written.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';').filter(|&s| s <= 12) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let replacement = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32)
                // `&#0;` is no XML character: left as written, not a NUL in a cell.
                .filter(|&c| c != '\0'),
        };
        match replacement {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = r#"<?xml version="1.0" encoding="UTF-16"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Date>2022-03-11T13:00:00</Date><Author>APTSIM\admin</Author></RegistrationInfo>
  <Triggers><TimeTrigger><StartBoundary>2022-03-11T13:05:00</StartBoundary></TimeTrigger><LogonTrigger/></Triggers>
  <Principals><Principal id="Author"><UserId>S-1-5-18</UserId></Principal></Principals>
  <Actions Context="Author"><Exec><Command>cmd.exe</Command><Arguments>/c whoami &gt; x &amp;&e;</Arguments></Exec></Actions>
</Task>"#;

    #[test]
    fn fields_and_entities() {
        let t = parse(TASK).unwrap();
        assert_eq!(t.command, "cmd.exe");
        assert_eq!(t.arguments, "/c whoami > x &&e;");
        assert_eq!(t.author, "APTSIM\\admin");
        assert_eq!(t.date, "2022-03-11T13:00:00");
        assert_eq!(t.user_id, "S-1-5-18");
        assert_eq!(
            t.triggers,
            "TimeTrigger start 2022-03-11T13:05:00; LogonTrigger"
        );
    }

    #[test]
    fn every_cut_of_a_task_file_reads_without_panic() {
        for (at, _) in TASK.char_indices() {
            let t = parse(&TASK[..at]).unwrap_or_default();
            assert!(t.command.len() <= at);
        }
        for cut in 0..64 {
            let bytes: Vec<u8> = TASK.bytes().skip(cut).collect();
            let _ = parse(&decode(&bytes));
        }
    }

    /// 1 MiB of unclosed triggers (and of unclosed tags) is read in one pass.
    #[test]
    fn unclosed_triggers_are_linear() {
        for unit in ["<TimeTrigger>", "<TimeTrigger <StartBoundary"] {
            let mut xml = String::from("<Task><Triggers>");
            let mut units = 0;
            while xml.len() < MAX_XML_BYTES as usize {
                xml.push_str(unit);
                units += 1;
            }
            xml.push_str("</Triggers>");
            let started = std::time::Instant::now();
            let t = parse(&xml).unwrap();
            assert!(
                started.elapsed() < std::time::Duration::from_secs(2),
                "{unit}: {:?}",
                started.elapsed()
            );
            assert_eq!(t.triggers.matches("TimeTrigger").count(), units);
        }
        assert_eq!(
            parse(
                "<Task><Triggers><BootTrigger><StartBoundary>b</StartBoundary><TimeTrigger/></Triggers>"
            )
            .unwrap()
            .triggers,
            "BootTrigger start b; TimeTrigger"
        );
    }

    #[test]
    fn encodings() {
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(
            "<Task><Command>a</Command>"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(parse(&decode(&utf16)).unwrap().command, "a");
        assert_eq!(
            parse(&decode(b"\xEF\xBB\xBF<Task><Command>b</Command>"))
                .unwrap()
                .command,
            "b"
        );
        assert_eq!(unescape("&#65;&#x42;&bogus;&&#0;"), "AB&bogus;&&#0;");
        assert_eq!(parse("<Task><Command>unterminated").unwrap().command, "");
    }

    /// Markup inside a comment, a processing instruction or a CDATA section of the
    /// description was read as the task's command (a decoy beside the real one); a
    /// CDATA command was shown with its brackets; a prefixed task namespace hid
    /// the command; and an empty or binary file gave a row with nothing in it and
    /// no word of loss.
    #[test]
    fn comments_cdata_and_prefixes_read_as_xml_does() {
        let decoy = "<Exec><Command>C:\\Windows\\notepad.exe</Command></Exec>";
        let task = format!(
            "<Task><RegistrationInfo><Description><![CDATA[{decoy}]]></Description>\
             </RegistrationInfo><!-- {decoy} --><?pi {decoy} ?><Actions><Exec>\
             <Command><![CDATA[C:\\evil\\ps<x>.exe]]></Command></Exec></Actions></Task>"
        );
        assert_eq!(parse(&task).unwrap().command, "C:\\evil\\ps<x>.exe");
        let prefixed = "<t:Task xmlns:t=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\
             <t:Actions><t:Exec><t:Command>cmd.exe</t:Command><t:Arguments>/c x</t:Arguments>\
             </t:Exec></t:Actions></t:Task>";
        let t = parse(prefixed).unwrap();
        assert_eq!(
            (t.command.as_str(), t.arguments.as_str()),
            ("cmd.exe", "/c x")
        );
        for junk in ["", "\u{0}\u{1}binary", "<html><Command>x</Command></html>"] {
            assert!(parse(junk).is_err(), "{junk:?}");
        }
    }
}

//! Runs `hivexml` (libhivex-bin, independent of libregf) and extracts, in document
//! (stored) order, each key's path below the root and its mtime (whole seconds,
//! `YYYY-MM-DDTHH:MM:SSZ`), plus the hive's own mtime (base block last-written).

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// One key as hivexml prints it.
pub struct Node {
    /// Path below the root key (`""` for the root), components joined by `\`.
    pub path: String,
    /// LastWrite time to the second.
    pub mtime: String,
}

/// (hive mtime, keys in document order). Fails the test if hivexml is missing.
pub fn run(path: &std::path::Path) -> (String, Vec<Node>) {
    let out = std::process::Command::new("hivexml")
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("hivexml (Debian package libhivex-bin) is required: {e}"));
    assert!(out.status.success(), "hivexml failed on {}", path.display());
    let xml = String::from_utf8_lossy(&out.stdout);
    let mut hive_mtime = String::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut awaiting_mtime: Option<usize> = None;
    let mut rest: &str = &xml;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        if let Some(tail) = rest.strip_prefix("<node ") {
            let name_start = tail.find("name=\"").expect("node name") + 6;
            let name_len = tail[name_start..].find('"').expect("name end");
            let name = unescape(&tail[name_start..name_start + name_len]);
            // The root is open[0]; paths are relative to it.
            let path = match open.len() {
                0 => String::new(),
                _ => open[1..]
                    .iter()
                    .chain([&name])
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\\"),
            };
            nodes.push(Node {
                path,
                mtime: String::new(),
            });
            open.push(name);
            awaiting_mtime = Some(nodes.len() - 1);
        } else if rest.starts_with("</node>") {
            open.pop();
        } else if let Some(tail) = rest.strip_prefix("<mtime>") {
            let text = tail[..tail.find('<').expect("mtime end")].to_owned();
            match awaiting_mtime.take() {
                Some(i) => nodes[i].mtime = text,
                None if hive_mtime.is_empty() => hive_mtime = text,
                None => {}
            }
        }
        rest = &rest[1..];
    }
    (hive_mtime, nodes)
}

/// A FILETIME in hivexml's whole-second form.
pub fn seconds(ft: filetime::Filetime) -> String {
    let s = ft.to_string();
    format!("{}Z", s.get(..19).unwrap_or(&s))
}
